// Browsing views: albums, artists, genres, an artist, an album, search results.
// Each view is `async (view, params) => cleanup?` and re-renders itself when a scan
// changes the catalogue (see scans.js).

import { bus } from "./bus.js";
import { act } from "./session.js";
import { onLibraryChanged } from "./scans.js";
import { prime } from "./tracks.js";
import { addToPlaylistMenu, starButton } from "./userdata.js";
import { button, clear, cover, debounce, fail, fmtDuration, fmtTime, h, plural, spinner, toast } from "./ui.js";

const PAGE = 60;

// -- queue helpers shared by the views -----------------------------------------------------------

export function playTracks(ids, index = 0) {
  if (!ids.length) return Promise.resolve();
  return act("player.queue.replace", { tracks: ids, index, play: true });
}

export async function addTracks(ids, next = false) {
  if (!ids.length) return;
  await act(next ? "player.queue.insert_next" : "player.queue.append", { tracks: ids });
  toast(next ? `Playing ${plural(ids.length, "track")} next` : `Added ${plural(ids.length, "track")} to the queue`);
}

async function albumTrackIds(albumId) {
  const album = await bus.request("library.album.get", { album: albumId });
  prime(album.tracks);
  return album.tracks.map((t) => t.id);
}

// -- pieces ---------------------------------------------------------------------------------------

function albumCard(album) {
  const play = (e) => {
    e.preventDefault();
    e.stopPropagation();
    albumTrackIds(album.id).then((ids) => playTracks(ids)).catch(fail);
  };
  return h(
    "a.card.album-card",
    { href: `#/album/${album.id}`, dataset: { album: album.id }, title: album.title },
    h("div.card-cover", cover(album.id, { size: 200, hasCover: album.cover != null, coverId: album.cover, label: album.title }),
      h("button.card-play", { type: "button", "aria-label": `Play ${album.title}`, onclick: play }, "▶")),
    h("div.card-title", album.title),
    h("div.card-sub.muted", [album.artist?.name, album.year].filter(Boolean).join(" · ")),
  );
}

function albumGrid(albums) {
  return h("div.grid", albums.map(albumCard));
}

function trackRow(t, { index, onPlay, showAlbum = false, showNumber = true }) {
  return h(
    "div.track-row",
    { dataset: { track: t.id }, role: "row", ondblclick: onPlay },
    h("span.tr-num.muted", showNumber ? (t.track_number ?? index + 1) : index + 1),
    h("button.tr-play", { type: "button", "aria-label": `Play ${t.title}`, onclick: onPlay }, "▶"),
    h("span.tr-main", h("span.tr-title", t.title), h("span.tr-artist.muted", t.artist || t.album_artist?.name || "")),
    showAlbum && t.album ? h("a.tr-album.muted", { href: `#/album/${t.album.id}` }, t.album.title) : null,
    h("span.tr-fav", starButton("track", t.id, t.title)),
    h("span.tr-dur.muted", fmtTime(t.duration_ms)),
    h("span.tr-actions",
      button("≣+", (e) => addToPlaylistMenu([t.id], e.currentTarget), { cls: "btn tiny ghost tr-addpl", title: "Add to playlist", "aria-label": `Add ${t.title} to a playlist` }),
      button("Next", () => addTracks([t.id], true), { cls: "btn tiny ghost", title: "Play next" }),
      button("+", () => addTracks([t.id]), { cls: "btn tiny ghost", title: "Add to queue", "aria-label": `Add ${t.title} to queue` })),
  );
}

/** A paged list: loads PAGE more when its sentinel scrolls into view; `reload()` keeps the count. */
function pagedList(container, fetchPage, renderItems) {
  let items = [];
  let total = null;
  let loading = false;
  const list = h("div");
  const more = h("div.more");
  container.append(list, more);
  const observer = new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && load());

  async function load() {
    if (loading || (total !== null && items.length >= total)) return;
    loading = true;
    clear(more, spinner());
    try {
      const page = await fetchPage(items.length, PAGE);
      items = items.concat(page.items);
      total = page.total;
      clear(list, renderItems(items, total));
    } catch (err) {
      fail(err);
    } finally {
      loading = false;
      clear(more, items.length < (total ?? 0) ? button("Load more", load, { cls: "btn ghost" }) : null);
    }
  }

  async function reload() {
    const page = await fetchPage(0, Math.max(PAGE, items.length));
    items = page.items;
    total = page.total;
    clear(list, renderItems(items, total));
    clear(more, items.length < total ? button("Load more", load, { cls: "btn ghost" }) : null);
  }

  observer.observe(more);
  load();
  return { reload, stop: () => observer.disconnect() };
}

function header(title, ...rest) {
  return h("div.view-head", h("h1", title), ...rest);
}

// -- views -----------------------------------------------------------------------------------------

export function albumsView(view, { order = "name", genre = null } = {}) {
  const title = genre ? genre : "Albums";
  const orderSelect = h("select", { "aria-label": "Order", onchange: (e) => (location.hash = genre ? `#/genre/${encodeURIComponent(genre)}?order=${e.target.value}` : `#/albums?order=${e.target.value}`) },
    ["name", "year", "recent"].map((o) => h("option", { value: o, selected: o === order }, { name: "A–Z", year: "By year", recent: "Recently added" }[o])));
  const count = h("span.muted.count");
  clear(view, header(title, count, orderSelect));
  const body = h("div");
  view.append(body);
  const paged = pagedList(
    body,
    (offset, limit) => bus.request("library.album.list", { offset, limit, order, ...(genre ? { genre } : {}) }),
    (items, total) => {
      count.textContent = plural(total, "album");
      return items.length ? albumGrid(items) : h("p.empty", "No albums yet. ", h("span.muted", "Add a music folder and scan it."));
    },
  );
  const off = onLibraryChanged(() => paged.reload().catch(() => {}));
  return () => {
    off();
    paged.stop();
  };
}

export function artistsView(view, { order = "name" } = {}) {
  const count = h("span.muted.count");
  clear(view, header("Artists", count));
  const body = h("div");
  view.append(body);
  const paged = pagedList(
    body,
    (offset, limit) => bus.request("library.artist.list", { offset, limit, order }),
    (items, total) => {
      count.textContent = plural(total, "artist");
      if (!items.length) return h("p.empty", "No artists yet.");
      return h("div.artist-list", items.map((a) =>
        h("a.artist-row", { href: `#/artist/${a.id}`, dataset: { artist: a.id } },
          h("span.avatar", { "aria-hidden": "true" }, (a.name || "?").trim().charAt(0).toUpperCase()),
          h("span.artist-name", a.name),
          h("span.muted.small", a.album_count ? plural(a.album_count, "album") : ""))));
    },
  );
  const off = onLibraryChanged(() => paged.reload().catch(() => {}));
  return () => {
    off();
    paged.stop();
  };
}

export async function genresView(view) {
  clear(view, header("Genres"), spinner());
  const render = async () => {
    const genres = await bus.request("library.genre.list", {});
    clear(view, header("Genres", h("span.muted.count", plural(genres.length, "genre"))),
      genres.length
        ? h("div.chips", genres.map((g) => h("a.chip", { href: `#/genre/${encodeURIComponent(g.name)}` }, g.name, h("span.muted", ` ${g.album_count}`))))
        : h("p.empty", "No genres yet."));
  };
  await render().catch(fail);
  return onLibraryChanged(() => render().catch(() => {}));
}

export async function artistView(view, { id }) {
  clear(view, spinner());
  const render = async () => {
    const artist = await bus.request("library.artist.get", { artist: Number(id) });
    const all = [...artist.albums, ...artist.appears_on];
    clear(view,
      h("div.view-head.hero",
        h("span.avatar.big", { "aria-hidden": "true" }, artist.name.charAt(0).toUpperCase()),
        h("div", h("p.muted.small", "Artist"), h("h1", artist.name, " ", starButton("artist", artist.id, artist.name)), h("p.muted", plural(artist.albums.length, "album"))),
        all.length ? button("▶ Play all", async () => {
          const ids = [];
          for (const album of all) ids.push(...(await albumTrackIds(album.id)));
          await playTracks(ids);
        }, { cls: "btn primary" }) : null),
      artist.albums.length ? [h("h2", "Albums"), albumGrid(artist.albums)] : null,
      artist.appears_on.length ? [h("h2", "Appears on"), albumGrid(artist.appears_on)] : null,
      all.length ? null : h("p.empty", "No albums."));
  };
  await render().catch((err) => clear(view, h("p.empty", err.code === "not_found" ? "No such artist." : err.message)));
  return onLibraryChanged(() => render().catch(() => {}));
}

export async function albumView(view, { id }) {
  clear(view, spinner());
  const render = async () => {
    const album = await bus.request("library.album.get", { album: Number(id) });
    prime(album.tracks);
    const ids = album.tracks.map((t) => t.id);
    const multiDisc = album.disc_count > 1;
    let disc = null;
    const rows = [];
    album.tracks.forEach((t, i) => {
      if (multiDisc && t.disc_number !== disc) {
        disc = t.disc_number;
        rows.push(h("div.disc", `Disc ${disc ?? "?"}`));
      }
      rows.push(trackRow(t, { index: i, onPlay: () => playTracks(ids, i).catch(fail) }));
    });
    clear(view,
      h("div.album-hero",
        cover(album.id, { size: 220, hasCover: album.cover != null, coverId: album.cover, label: album.title }),
        h("div.album-info",
          h("p.muted.small", album.compilation ? "Compilation" : "Album"),
          h("h1", album.title),
          h("p", h("a", { href: `#/artist/${album.artist.id}` }, album.artist.name),
            album.year ? h("span.muted", ` · ${album.year}`) : null,
            h("span.muted", ` · ${plural(album.track_count || ids.length, "track")}, ${fmtDuration(album.duration_ms)}`)),
          album.genres.length ? h("p.chips.small", album.genres.map((g) => h("a.chip", { href: `#/genre/${encodeURIComponent(g)}` }, g))) : null,
          h("div.actions",
            button("▶ Play", () => playTracks(ids), { cls: "btn primary", id: "album-play" }),
            button("Play next", () => addTracks(ids, true), { cls: "btn" }),
            button("Add to queue", () => addTracks(ids), { cls: "btn" }),
            button("≣+ Playlist", (e) => addToPlaylistMenu(ids, e.currentTarget), { cls: "btn", id: "album-addpl", title: "Add the album to a playlist" }),
            starButton("album", album.id, album.title)))),
      h("div.track-list", { role: "table", "aria-label": "Tracks" }, rows));
  };
  await render().catch((err) => clear(view, h("p.empty", err.code === "not_found" ? "No such album." : err.message)));
  return onLibraryChanged(() => render().catch(() => {}));
}

// -- search ----------------------------------------------------------------------------------------

let searchSeq = 0;

export async function searchView(view, { q = "" }) {
  const input = document.getElementById("search");
  if (document.activeElement !== input) input.value = q;
  if (!q.trim()) {
    clear(view, header("Search"), h("p.empty.muted", "Type in the search box to find artists, albums and tracks."));
    return;
  }
  const seq = ++searchSeq;
  if (!view.querySelector(".search-results")) clear(view, header(`Results for “${q}”`), spinner());
  let result;
  try {
    result = await bus.request("library.search.query", { query: q.slice(0, 200), limit: 20 });
  } catch (err) {
    if (seq === searchSeq) clear(view, header("Search"), h("p.empty", err.message));
    return;
  }
  if (seq !== searchSeq) return; // a newer query answered (or will)
  const { artists, albums, tracks } = result;
  prime(tracks.items);
  const ids = tracks.items.map((t) => t.id);
  const none = !artists.total && !albums.total && !tracks.total;
  const count = (page) => ` ${page.total}${page.total_exact === false ? "+" : ""}`; // totals stop counting at a limit
  clear(view,
    h("div.search-results",
      header(`Results for “${q}”`),
      none ? h("p.empty", "Nothing found.") : null,
      tracks.items.length ? [h("h2", "Tracks", h("span.muted.small", count(tracks))),
        h("div.track-list", tracks.items.map((t, i) => trackRow(t, { index: i, showAlbum: true, showNumber: false, onPlay: () => playTracks(ids, i).catch(fail) })))] : null,
      artists.items.length ? [h("h2", "Artists", h("span.muted.small", count(artists))),
        h("div.chips", artists.items.map((a) => h("a.chip", { href: `#/artist/${a.id}` }, a.name)))] : null,
      albums.items.length ? [h("h2", "Albums", h("span.muted.small", count(albums))), albumGrid(albums.items)] : null));
}

/** Search as you type: the box drives #/search/<query>. */
export function startSearchBox() {
  const input = document.getElementById("search");
  const go = debounce(() => {
    const q = input.value.trim();
    const target = q ? `#/search/${encodeURIComponent(q)}` : "#/search";
    if (location.hash !== target) history.replaceState(null, "", target), window.dispatchEvent(new HashChangeEvent("hashchange"));
  }, 200);
  input.addEventListener("input", () => {
    if (!location.hash.startsWith("#/search")) history.pushState(null, "", "#/search");
    go();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") input.blur();
  });
}
