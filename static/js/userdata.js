// Your things: favourites (stars), playlists, and the Subsonic apps panel.
// Stars are kept here (loaded once from favourite.list) so any view can show and toggle them.

import { bus } from "./bus.js";
import { act } from "./session.js";
import { addToPlaylistMenu, ownedByMe } from "./playlistmenu.js";
import { download, tapToPlay, trackMenuButton } from "./trackmenu.js";
import { prime } from "./tracks.js";
import { askText, button, clear, confirmDialog, dialog, fail, fmtDuration, fmtTime, h, plural, spinner, toast } from "./ui.js";

// -- favourites -------------------------------------------------------------------------------------

const starred = { track: new Set(), album: new Set(), artist: new Set() };
let loaded = null;

export function loadFavourites(force = false) {
  if (!loaded || force) {
    loaded = bus.request("favourite.list", {}).then((fav) => {
      starred.track = new Set(fav.tracks.map((x) => x.id));
      starred.album = new Set(fav.albums.map((x) => x.id));
      starred.artist = new Set(fav.artists.map((x) => x.id));
      refreshStars();
      return fav;
    }).catch((err) => {
      loaded = null;
      throw err;
    });
  }
  return loaded;
}

export function isStarred(kind, id) {
  return starred[kind].has(Number(id));
}

function refreshStars() {
  for (const el of document.querySelectorAll("button.star")) {
    const on = isStarred(el.dataset.kind, el.dataset.id);
    el.classList.toggle("on", on);
    el.setAttribute("aria-pressed", String(on));
    el.textContent = on ? "★" : "☆";
  }
}

export async function setStar(kind, id, on) {
  id = Number(id);
  await bus.request("favourite.set", { kind, id, starred: on });
  if (on) starred[kind].add(id);
  else starred[kind].delete(id);
  refreshStars();
}

/** A ☆/★ toggle for a track, album or artist. */
export function starButton(kind, id, label = "") {
  const on = isStarred(kind, id);
  const el = h("button.star", {
    type: "button",
    class: on ? "on" : null,
    title: "Favourite",
    "aria-label": label ? `Favourite ${label}` : "Favourite",
    "aria-pressed": String(on),
    dataset: { kind, id: String(id) },
    onclick: (e) => {
      e.preventDefault();
      e.stopPropagation();
      setStar(kind, id, !isStarred(kind, id)).catch(fail);
    },
  }, on ? "★" : "☆");
  loadFavourites().catch(() => {});
  return el;
}

// -- track rows (a local copy of the library's look, with extra actions) ------------------------------

function row(t, i, { onPlay, extra = [], menu = [] }) {
  const el = h("div.track-row",
    { dataset: { track: t.id, index: i }, role: "row", ondblclick: onPlay },
    h("span.tr-num.muted", i + 1),
    h("button.tr-play", { type: "button", "aria-label": `Play ${t.title}`, onclick: onPlay }, "▶"),
    h("span.tr-main", h("span.tr-title", t.title), h("span.tr-artist.muted", t.artist || t.album_artist?.name || "")),
    t.album ? h("a.tr-album.muted", { href: `#/album/${t.album.id}` }, t.album.title) : h("span.tr-album"),
    h("span.tr-fav", starButton("track", t.id, t.title)),
    h("span.tr-dur.muted", fmtTime(t.duration_ms)),
    h("span.tr-actions", extra),
    h("span.tr-menu", trackMenuButton(t, { extra: menu })));
  tapToPlay(el, onPlay);
  return el;
}

function playTracks(ids, index = 0) {
  if (!ids.length) return Promise.resolve();
  return act("player.queue.replace", { tracks: ids, index, play: true });
}

// -- views ----------------------------------------------------------------------------------------------

export async function playlistsView(view) {
  const render = async () => {
    const lists = await bus.request("playlist.list", {});
    const form = h("form.pl-create", {
      onsubmit: (e) => {
        e.preventDefault();
        const name = input.value.trim();
        if (!name) return;
        bus.request("playlist.create", { name: name.slice(0, 500) }).then((p) => {
          input.value = "";
          location.hash = `#/playlist/${p.id}`;
        }).catch(fail);
      },
    });
    const input = h("input", { type: "text", id: "playlist-new-name", placeholder: "New playlist name", maxlength: "500", "aria-label": "New playlist name" });
    form.append(input, h("button.btn.primary", { type: "submit", id: "playlist-create" }, "Create"));
    clear(view,
      h("div.view-head", h("h1", "Playlists"), h("span.muted.count", plural(lists.length, "playlist"))),
      form,
      lists.length
        ? h("div.pl-list", lists.map((p) => h("a.pl-row", { href: `#/playlist/${p.id}`, dataset: { playlist: p.id } },
          h("span.pl-ico", { "aria-hidden": "true" }, "≣"),
          h("span.pl-name", p.name),
          h("span.muted.small", `${plural(p.track_count || 0, "track")} · ${fmtDuration(p.duration_ms)}`),
          ownedByMe(p) ? null : h("span.muted.small", `by ${p.owner?.username}`))))
        : h("p.empty.muted", "No playlists yet. Create one here, or use ≣+ on any track."));
  };
  clear(view, spinner());
  await render().catch(fail);
}

export async function playlistView(view, { id }) {
  id = Number(id);
  let playlist = null;
  const render = async () => {
    playlist = await bus.request("playlist.get", { playlist: id });
    prime(playlist.tracks);
    const mine = ownedByMe(playlist);
    const ids = playlist.tracks.map((t) => t.id);
    const n = ids.length;
    const rows = playlist.tracks.map((t, i) => row(t, i, {
      onPlay: () => playTracks(ids, i).catch(fail),
      menu: mine ? [
        i > 0 ? ["Move up", () => move(i, i - 1), "up"] : null,
        i < n - 1 ? ["Move down", () => move(i, i + 1), "down"] : null,
        ["Remove from playlist", () => remove(i), "remove"],
      ] : [],
      extra: mine ? [
        button("↑", () => move(i, i - 1), { cls: "btn tiny ghost pl-up", title: "Move up", "aria-label": "Move up", disabled: i === 0 }),
        button("↓", () => move(i, i + 1), { cls: "btn tiny ghost pl-down", title: "Move down", "aria-label": "Move down", disabled: i === n - 1 }),
        button("✕", () => remove(i), { cls: "btn tiny ghost pl-remove", title: "Remove from playlist", "aria-label": `Remove ${t.title} from playlist` }),
      ] : [],
    }));
    if (mine) rows.forEach((r, i) => {
      r.draggable = true;
      r.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData("text/plain", String(i));
        e.dataTransfer.effectAllowed = "move";
        r.classList.add("dragging");
      });
      r.addEventListener("dragend", () => r.classList.remove("dragging"));
      r.addEventListener("dragover", (e) => {
        e.preventDefault();
        r.classList.add("drop-before");
      });
      r.addEventListener("dragleave", () => r.classList.remove("drop-before"));
      r.addEventListener("drop", (e) => {
        e.preventDefault();
        r.classList.remove("drop-before");
        const from = Number(e.dataTransfer.getData("text/plain"));
        if (Number.isInteger(from) && from !== i) move(from, i).catch(fail);
      });
    });
    clear(view,
      h("div.view-head.hero",
        h("span.avatar.big", { "aria-hidden": "true" }, "≣"),
        h("div", h("p.muted.small", playlist.public ? "Public playlist" : "Playlist"), h("h1#playlist-name", playlist.name),
          h("p.muted", `${plural(n, "track")} · ${fmtDuration(playlist.duration_ms)}`, mine ? "" : ` · by ${playlist.owner?.username}`)),
        h("div.actions",
          n ? button("▶ Play", () => playTracks(ids), { cls: "btn primary", id: "playlist-play" }) : null,
          n ? button("⤓ Download", () => download("playlist", id), { cls: "btn", id: "playlist-download", title: "Download the playlist (zip)" }) : null,
          mine ? button("Edit", edit, { cls: "btn", id: "playlist-edit" }) : null,
          mine ? button("Delete", del, { cls: "btn danger", id: "playlist-delete" }) : null)),
      playlist.comment ? h("p.muted.pl-comment", playlist.comment) : null,
      n ? h("div.track-list.pl-tracks", { role: "table", "aria-label": "Playlist tracks" }, rows)
        : h("p.empty.muted", "This playlist is empty. Add tracks with ≣+ on any track row."));
  };
  const move = async (from, to) => {
    if (to < 0 || to >= playlist.tracks.length) return;
    await bus.request("playlist.move", { playlist: id, from_index: from, to_index: to });
    await render();
  };
  const remove = async (index) => {
    await bus.request("playlist.remove", { playlist: id, indexes: [index] });
    await render();
  };
  const edit = async () => {
    const changes = await editPlaylistDialog(playlist);
    if (!changes) return;
    await bus.request("playlist.update", { playlist: id, ...changes });
    toast("Playlist saved");
    await render();
  };
  const del = async () => {
    if (!(await confirmDialog("Delete playlist", `Delete the playlist “${playlist.name}”? This cannot be undone.`, { ok: "Delete", danger: true }))) return;
    await bus.request("playlist.delete", { playlist: id });
    toast(`Deleted ${playlist.name}`);
    location.hash = "#/playlists";
  };
  clear(view, spinner());
  await render().catch((err) => clear(view, h("p.empty", err.code === "not_found" ? "No such playlist." : err.message)));
}

/** Name, description and sharing of a playlist: resolves with the changed fields, or null. */
function editPlaylistDialog(playlist) {
  const name = h("input#pl-edit-name", { type: "text", value: playlist.name, maxlength: "500", required: true });
  const comment = h("textarea#pl-edit-comment", { maxlength: "5000", rows: "3" });
  comment.value = playlist.comment || "";
  const shared = h("input#pl-edit-public", { type: "checkbox", checked: !!playlist.public });
  return dialog({
    title: "Edit playlist",
    id: "playlist-dialog",
    body: [
      h("label.dlg-label", "Name", name),
      h("label.dlg-label", "Description", comment),
      h("label.switch", shared, "Public: other users can see and play it"),
    ],
    actions: [{ label: "Cancel", value: null }, { label: "Save", submit: true, name: "save" }],
    collect: () => {
      const changes = {};
      const newName = name.value.trim();
      if (newName && newName !== playlist.name) changes.name = newName;
      if (comment.value !== (playlist.comment || "")) changes.comment = comment.value;
      if (shared.checked !== !!playlist.public) changes.public = shared.checked;
      return changes;
    },
  });
}

export async function favouritesView(view) {
  const render = async () => {
    const fav = await loadFavourites(true);
    prime(fav.tracks);
    const ids = fav.tracks.map((t) => t.id);
    const none = !fav.tracks.length && !fav.albums.length && !fav.artists.length;
    clear(view,
      h("div.view-head", h("h1", "Favourites"),
        ids.length ? button("▶ Play starred tracks", () => playTracks(ids), { cls: "btn primary", id: "favourites-play" }) : null),
      none ? h("p.empty.muted", "Nothing starred yet. Use ☆ on a track, an album or an artist.") : null,
      fav.tracks.length ? [h("h2", "Tracks", h("span.muted.small", ` ${fav.tracks.length}`)),
        h("div.track-list.fav-tracks", fav.tracks.map((t, i) => row(t, i, {
          onPlay: () => playTracks(ids, i).catch(fail),
          extra: [button("≣+", (e) => addToPlaylistMenu([t.id], e.currentTarget), { cls: "btn tiny ghost tr-addpl", title: "Add to playlist", "aria-label": `Add ${t.title} to a playlist` })],
        })))] : null,
      fav.albums.length ? [h("h2", "Albums", h("span.muted.small", ` ${fav.albums.length}`)),
        h("div.chips.fav-albums", fav.albums.map((a) => h("a.chip", { href: `#/album/${a.id}` }, a.title, a.artist?.name ? h("span.muted", ` · ${a.artist.name}`) : null)))] : null,
      fav.artists.length ? [h("h2", "Artists", h("span.muted.small", ` ${fav.artists.length}`)),
        h("div.chips.fav-artists", fav.artists.map((a) => h("a.chip", { href: `#/artist/${a.id}` }, a.name)))] : null);
  };
  clear(view, spinner());
  await render().catch(fail);
}

// -- Subsonic apps ----------------------------------------------------------------------------------------

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function credentials(method = "GET") {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method === "POST") {
    init.headers["X-CSRFToken"] = csrfToken();
    init.body = new URLSearchParams({ regenerate: "password" });
  }
  const response = await fetch("/rest/credentials", init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message || `The server answered ${response.status}.`);
  return body;
}

/** The Subsonic apps' stream defaults: a format ("" = as the app asks) and a maximum bitrate (0 = none). */
async function saveStreamDefaults(stream_format, stream_max_bitrate) {
  const response = await fetch("/rest/credentials", {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ stream_format, stream_max_bitrate }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message || `The server answered ${response.status}.`);
  return body;
}

function streamDefaults(c) {
  const formats = [["", "As the app asks"], ["raw", "Original files"], ["opus", "Opus"], ["mp3", "MP3"], ["aac", "AAC"]];
  const rates = [[0, "No limit"], [320, "320 kbit/s"], [256, "256 kbit/s"], [192, "192 kbit/s"], [128, "128 kbit/s"], [96, "96 kbit/s"], [64, "64 kbit/s"]];
  const format = h("select#subsonic-stream-format", formats.map(([v, label]) => h("option", { value: v, selected: v === (c.stream_format || "") }, label)));
  const rate = h("select#subsonic-stream-max", rates.map(([v, label]) => h("option", { value: String(v), selected: v === (c.stream_max_bitrate || 0) }, label)));
  const save = async () => {
    await saveStreamDefaults(format.value, Number(rate.value));
    toast("Streaming defaults saved");
  };
  format.addEventListener("change", () => save().catch(fail));
  rate.addEventListener("change", () => save().catch(fail));
  return h("div.subsonic-stream",
    h("h3.section", "Streaming to apps"),
    h("p.muted.small", "Used when an app does not choose itself; an app asking for a lower bitrate gets it."),
    h("dl.subsonic", h("dt", "Format"), h("dd", format), h("dt", "Max bitrate"), h("dd", rate)));
}

export async function subsonicView(view) {
  let shown = false;
  const render = (c) => {
    const server = c.server || `${location.origin}/`;
    const pw = h("code#subsonic-password", c.password ? (shown ? c.password : "••••••••••••") : "not set yet");
    const showBtn = c.password ? button(shown ? "Hide" : "Show", () => {
      shown = !shown;
      render(c);
    }, { cls: "btn tiny ghost", id: "subsonic-show" }) : null;
    const copyBtn = c.password ? button("Copy", async () => {
      await navigator.clipboard.writeText(c.password);
      toast("Password copied");
    }, { cls: "btn tiny ghost" }) : null;
    clear(view,
      h("div.view-head", h("h1", "Subsonic apps")),
      h("p.muted", "Use any Subsonic-compatible app (DSub, Symfonium, play:Sub, Sonixd…) with these settings. The password here is for apps only, not your login password."),
      h("dl.subsonic", { id: "subsonic-panel" },
        h("dt", "Server"), h("dd", h("code#subsonic-server", server)),
        h("dt", "Username"), h("dd", h("code#subsonic-username", c.username)),
        h("dt", "Password"), h("dd", h("span#subsonic-password-box", { dataset: { password: c.password || "" } }, pw), showBtn, copyBtn)),
      h("div.actions",
        button(c.password ? "Regenerate password" : "Create password", async () => {
          if (c.password && !(await confirmDialog("New password", "Make a new password? Apps using the old one will stop working.", { ok: "Make a new one", danger: true }))) return;
          const fresh = await credentials("POST");
          shown = true;
          render(fresh);
          toast("New Subsonic password made");
        }, { cls: "btn", id: "subsonic-regenerate" })),
      streamDefaults(c),
      c.last_used ? h("p.muted.small", `Last used by an app: ${new Date(c.last_used).toLocaleString()}`) : null);
  };
  clear(view, spinner());
  try {
    render(await credentials());
  } catch (err) {
    clear(view, h("div.view-head", h("h1", "Subsonic apps")), h("p.empty", err.message));
  }
}
