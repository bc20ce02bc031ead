// What every track row offers: play, queue, an always visible "⋯" menu (touch reaches it:
// nothing hides behind hover), ratings, track info, lyrics following the playback position,
// downloads. Rows opt in to "a tap plays" (touch, or the phone layout).

import { bus } from "./bus.js";
import { livePosition } from "./clock.js";
import { act, targetId } from "./session.js";
import * as trackers from "./trackers.js";
import { addToPlaylistMenu } from "./playlistmenu.js";
import { dialog, fail, fmtTime, h, plural, toast } from "./ui.js";

// -- the queue -------------------------------------------------------------------------------------

export function playTracks(ids, index = 0) {
  if (!ids.length) return Promise.resolve();
  return act("player.queue.replace", { tracks: ids, index, play: true });
}

export async function addTracks(ids, next = false) {
  if (!ids.length) return;
  await act(next ? "player.queue.insert_next" : "player.queue.append", { tracks: ids });
  toast(next ? `Playing ${plural(ids.length, "track")} next` : `Added ${plural(ids.length, "track")} to the queue`);
}

// -- ratings: loaded for the rows shown, a few ids a request ----------------------------------------

const ratings = { track: new Map(), album: new Map() };
const pendingRatings = { track: new Set(), album: new Set() };
let ratingTimer = null;

function wantRating(kind, id) {
  if (ratings[kind].has(id) || pendingRatings[kind].has(id)) return;
  pendingRatings[kind].add(id);
  clearTimeout(ratingTimer);
  ratingTimer = setTimeout(loadRatings, 30);
}

async function loadRatings() {
  for (const kind of ["track", "album"]) {
    const ids = [...pendingRatings[kind]];
    pendingRatings[kind].clear();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      try {
        const rated = await bus.request("rating.get", { kind, ids: chunk });
        for (const id of chunk) ratings[kind].set(id, 0);
        for (const { id, rating } of rated) ratings[kind].set(id, rating);
        refreshRatings(kind);
      } catch {
        // shown as unrated; the next view asks again
      }
    }
  }
}

function refreshRatings(kind) {
  for (const el of document.querySelectorAll(`.rating[data-kind="${kind}"]`)) paintRating(el, ratings[kind].get(Number(el.dataset.id)) || 0);
}

function paintRating(el, value) {
  el.dataset.rating = String(value);
  el.querySelectorAll("button").forEach((b, i) => {
    b.textContent = i < value ? "★" : "☆";
    b.setAttribute("aria-pressed", String(i + 1 === value));
  });
}

export async function setRating(kind, id, value) {
  await bus.request("rating.set", { kind, id: Number(id), rating: value });
  ratings[kind].set(Number(id), value);
  refreshRatings(kind);
}

/** Five stars for a track or album: shows your rating, a press sets it (the same star again clears it). */
export function ratingStars(kind, id, label = "") {
  id = Number(id);
  const box = h("span.rating", { role: "group", "aria-label": label ? `Your rating of ${label}` : "Your rating", dataset: { kind, id: String(id) } },
    [1, 2, 3, 4, 5].map((n) => h("button.rate", {
      type: "button", title: plural(n, "star"), "aria-label": `Rate ${plural(n, "star")}`,
      onclick: (e) => {
        e.stopPropagation();
        const current = ratings[kind].get(id) || 0;
        setRating(kind, id, current === n ? 0 : n).catch(fail);
      },
    }, "☆")));
  paintRating(box, ratings[kind].get(id) || 0);
  wantRating(kind, id);
  return box;
}

// -- downloads ---------------------------------------------------------------------------------------

export function downloadUrl(kind, id) {
  return `/api/v1/${kind}s/${Number(id)}/download`;
}

/** Start a download through a link (the browser keeps the page; the server names the file). */
export function download(kind, id) {
  const a = h("a", { href: downloadUrl(kind, id), download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

// -- track info and lyrics -----------------------------------------------------------------------------

function kbps(bitrate) {
  if (!bitrate) return null;
  return `${Math.round(bitrate > 10000 ? bitrate / 1000 : bitrate)} kbps`;
}

export async function showTrackInfo(id) {
  const t = await bus.request("library.track.get", { track: Number(id) });
  const rows = [
    ["Title", t.title], ["Artist", t.artist], ["Album", t.album?.title], ["Album artist", t.album_artist?.name],
    ["Track", t.track_number ? `${t.track_number}${t.track_total ? ` of ${t.track_total}` : ""}` : null],
    ["Disc", t.disc_number ? `${t.disc_number}${t.disc_total ? ` of ${t.disc_total}` : ""}` : null],
    ["Year", t.year], ["Genres", t.genres?.join(", ")], ["Duration", fmtTime(t.duration_ms)],
    ["Format", [t.format?.toUpperCase(), t.codec && t.codec !== t.format ? t.codec : null].filter(Boolean).join(" · ")],
    ["Bitrate", kbps(t.bitrate)], ["Sample rate", t.sample_rate ? `${(t.sample_rate / 1000).toFixed(1)} kHz` : null],
    ["Channels", t.channels], ["Size", t.size ? `${(t.size / 1048576).toFixed(1)} MB` : null],
    ["Replay gain", t.replaygain?.track_gain != null ? `${t.replaygain.track_gain.toFixed(2)} dB` : null],
    ["Path", t.path], // staff only: the server leaves it out for everyone else
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  await dialog({
    title: "Track info",
    id: "track-info",
    wide: true,
    body: [
      h("dl.info-list", rows.map(([k, v]) => [h("dt", k), h("dd", { dataset: { field: k.toLowerCase().replace(/ /g, "-") } }, String(v))])),
      h("div.row", h("span.muted.small", "Your rating"), ratingStars("track", t.id, t.title)),
    ],
    actions: [{ label: "Close", value: null, name: "close" }],
  });
}

/** The lyrics, with the current line marked as the track plays when they are timed. */
export async function showLyrics(id) {
  const result = await bus.request("library.track.lyrics", { track: Number(id) });
  const lines = result.lines.map((line) => h("p.lyric-line", { dataset: { start: line.start ?? "" } }, line.value || " "));
  const body = lines.length ? h("div.lyrics", { class: result.synced ? "synced" : null }, lines) : h("p.muted", "No lyrics for this track.");
  let timer = null;
  if (result.synced) {
    let shown = -1;
    const follow = () => {
      const s = trackers.get(targetId())?.state;
      if (!s || s.queue?.[s.index] !== result.track) return;
      const position = livePosition(s);
      let current = -1;
      result.lines.forEach((line, i) => {
        if (line.start <= position) current = i;
      });
      if (current === shown) return;
      lines[shown]?.classList.remove("current");
      shown = current;
      if (current >= 0) {
        lines[current].classList.add("current");
        lines[current].scrollIntoView({ block: "center", behavior: "smooth" });
      }
    };
    timer = setInterval(follow, 200);
    follow();
  }
  await dialog({ title: "Lyrics", id: "lyrics", wide: true, body: [body], actions: [{ label: "Close", value: null, name: "close" }] });
  clearInterval(timer);
}

// -- the row menu --------------------------------------------------------------------------------------

let openMenu = null;

export function closeTrackMenu() {
  if (!openMenu) return;
  const { menu, anchor } = openMenu;
  openMenu = null;
  menu.remove();
  document.removeEventListener("pointerdown", outside, true);
  document.removeEventListener("keydown", onMenuKey, true);
  anchor.setAttribute("aria-expanded", "false");
}

function outside(e) {
  if (openMenu && !openMenu.menu.contains(e.target) && e.target !== openMenu.anchor) closeTrackMenu();
}

function onMenuKey(e) {
  if (!openMenu) return;
  const items = [...openMenu.menu.querySelectorAll("button")];
  const at = items.indexOf(document.activeElement);
  if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    const { anchor } = openMenu;
    closeTrackMenu();
    anchor.focus();
  } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const step = e.key === "ArrowDown" ? 1 : -1;
    items[(at + step + items.length) % items.length]?.focus();
  }
}

/** A menu of `entries` ([label, fn] or null) under `anchor`. */
export function popupMenu(anchor, entries, label = "Actions") {
  const wasOpen = openMenu?.anchor === anchor;
  closeTrackMenu();
  if (wasOpen) return;
  const menu = h("div.pl-menu.track-menu", { role: "menu", "aria-label": label },
    entries.filter(Boolean).map(([text, fn, name]) => h("button.pl-menu-item", {
      type: "button", role: "menuitem", dataset: { item: name || text },
      onclick: () => {
        closeTrackMenu();
        Promise.resolve(fn(anchor)).catch(fail);
      },
    }, text)));
  document.body.append(menu);
  const box = anchor.getBoundingClientRect();
  const height = menu.offsetHeight;
  const below = box.bottom + 4 + height < window.innerHeight;
  menu.style.top = `${Math.max(8, below ? box.bottom + 4 : box.top - 4 - height)}px`;
  menu.style.left = `${Math.max(8, Math.min(box.right - menu.offsetWidth, window.innerWidth - menu.offsetWidth - 8))}px`;
  openMenu = { menu, anchor };
  anchor.setAttribute("aria-expanded", "true");
  setTimeout(() => {
    document.addEventListener("pointerdown", outside, true);
    document.addEventListener("keydown", onMenuKey, true);
  });
  menu.querySelector("button")?.focus();
}

/** The "⋯" menu of a track. */
export function trackMenuButton(t, { extra = [] } = {}) {
  return h("button.icon-btn.small.tr-more", {
    type: "button", title: "More", "aria-label": `More actions for ${t.title}`, "aria-haspopup": "menu", "aria-expanded": "false",
    onclick: (e) => {
      e.stopPropagation();
      popupMenu(e.currentTarget, [
        ["Play next", () => addTracks([t.id], true), "next"],
        ["Add to queue", () => addTracks([t.id]), "queue"],
        ["Add to playlist…", (anchor) => addToPlaylistMenu([t.id], anchor), "playlist"],
        ...extra,
        t.album ? ["Go to album", () => (location.hash = `#/album/${t.album.id}`), "album"] : null,
        ["Rate…", () => rateDialog(t), "rate"],
        ["Track info", () => showTrackInfo(t.id), "info"],
        ["Lyrics", () => showLyrics(t.id), "lyrics"],
        ["Download", () => download("track", t.id), "download"],
      ], `Actions for ${t.title}`);
    },
  }, "⋯");
}

async function rateDialog(t) {
  await dialog({ title: `Rate “${t.title}”`, id: "rate-dialog", body: [ratingStars("track", t.id, t.title)], actions: [{ label: "Done", value: null, name: "close" }] });
}

/** A tap on the row (not on its buttons or links) plays it: on touch, and in the phone layout. */
export function tapToPlay(row, onPlay) {
  let touch = false;
  row.addEventListener("pointerdown", (e) => (touch = e.pointerType === "touch" || e.pointerType === "pen"));
  row.addEventListener("click", (e) => {
    if (e.target.closest("button, a, input, select, label")) return;
    if (touch || window.matchMedia("(max-width: 720px)").matches) onPlay(e);
  });
}

