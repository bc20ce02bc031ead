// Browsing views: albums, artists, genres, an artist, an album, search results.
// Each view is `async (view, params) => cleanup?` and re-renders itself when a scan
// changes the catalogue (see scans.js).

import { bus } from "./bus.js";
import { onLibraryChanged } from "./scans.js";
import { prime } from "./tracks.js";
import { addTracks, download, playTracks, ratingStars, tapToPlay, trackMenuButton } from "./trackmenu.js";
import { addToPlaylistMenu } from "./playlistmenu.js";
import { starButton } from "./userdata.js";
import { button, clear, cover, debounce, fail, fmtDuration, fmtTime, h, plural, spinner } from "./ui.js";

export { addTracks, playTracks }; // (they live in trackmenu.js, with the other track actions)

const PAGE = 60;

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

export function trackRow(t, { index, onPlay, showAlbum = false, showNumber = true }) {
  const row = h(
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
    h("span.tr-menu", trackMenuButton(t)),
  );
  tapToPlay(row, onPlay);
  return row;
}

/**
 * A paged list: loads PAGE more when its sentinel scrolls into view; `reload()` keeps the count.
 * `fetchPage(offset, limit, seed)` returns a page (a random order's page carries its `seed`).
 *
 * Back keeps the place: while the list is shown, how many items are loaded, the scroll position
 * and the seed are kept in this history entry's state (history.replaceState); coming back to
 * the entry (Back, Forward) loads that many again and scrolls there. A fresh visit (a link)
 * is a new entry with no state: the top.
 */
export function pagedList(container, fetchPage, renderItems, { scroller = document.getElementById("view") } = {}) {
  const entry = location.hash;
  const saved = history.state?.place?.hash === entry ? history.state.place : null;
  let items = [];
  let total = null;
  let seed = saved?.seed ?? null;
  let loading = false;
  let stopped = false;
  const list = h("div");
  const more = h("div.more");
  container.append(list, more);
  const observer = new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && load());

  function remember() {
    if (stopped || location.hash !== entry || total === null) return; // another entry is current now
    const place = { hash: entry, count: items.length, scroll: Math.round(scroller.scrollTop), seed };
    history.replaceState({ ...(history.state || {}), place }, "");
  }
  let pending = null;
  const onScroll = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      remember();
    }, 120);
  };
  scroller.addEventListener("scroll", onScroll, { passive: true });
  // A click that leaves the list (an album, a link) records the place first.
  container.addEventListener("click", remember, true);

  async function fetchMany(offset, count) {
    let page = await fetchPage(offset, Math.min(count, 500), seed);
    const all = { ...page, items: [...page.items] };
    while (all.items.length < count && offset + all.items.length < page.total) {
      page = await fetchPage(offset + all.items.length, Math.min(500, count - all.items.length), page.seed ?? seed);
      all.items.push(...page.items);
    }
    return all;
  }

  function show(page) {
    total = page.total;
    if (page.seed !== undefined) seed = page.seed;
    clear(list, renderItems(items, total));
    clear(more, items.length < (total ?? 0) ? button("Load more", load, { cls: "btn ghost" }) : null);
  }

  async function load() {
    if (loading || stopped || (total !== null && items.length >= total)) return;
    loading = true;
    clear(more, spinner());
    try {
      const page = await fetchPage(items.length, PAGE, seed);
      if (stopped) return;
      items = items.concat(page.items);
      show(page);
      remember();
    } catch (err) {
      clear(more, button("Load more", load, { cls: "btn ghost" }));
      fail(err);
    } finally {
      loading = false;
    }
  }

  async function restore() {
    loading = true;
    clear(more, spinner());
    try {
      const page = await fetchMany(0, Math.max(PAGE, saved.count));
      if (stopped) return;
      items = page.items;
      show(page);
      scroller.scrollTop = saved.scroll;
      requestAnimationFrame(() => (scroller.scrollTop = saved.scroll)); // after covers took their size
    } catch (err) {
      fail(err);
    } finally {
      loading = false;
    }
  }

  async function reload() {
    const page = await fetchMany(0, Math.max(PAGE, items.length));
    items = page.items;
    show(page);
  }

  observer.observe(more);
  if (saved) restore();
  else load();
  return {
    reload,
    items: () => items,
    stop: () => {
      stopped = true;
      observer.disconnect();
      clearTimeout(pending);
      scroller.removeEventListener("scroll", onScroll);
    },
  };
}

function header(title, ...rest) {
  return h("div.view-head", h("h1", title), ...rest);
}

// -- views -----------------------------------------------------------------------------------------

const ALBUM_ORDERS = {
  name: "A–Z", artist: "Artist", year: "Year", recent: "Recently added", random: "Random",
  most_played: "Most played", recently_played: "Recently played", starred: "Starred", top_rated: "Top rated",
};

/** The album list's query from the route: #/albums?order=year&desc=1&from=1990&to=1999. */
function albumQuery(params) {
  const year = (name) => (/^\d{1,4}$/.test(params.get(name) || "") ? Number(params.get(name)) : null);
  const order = params.get("order") in ALBUM_ORDERS ? params.get("order") : "name";
  return { order, descending: params.get("desc") === "1", year_from: year("from"), year_to: year("to") };
}

export function albumsView(view, { genre = null, params = new URLSearchParams() } = {}) {
  const query = albumQuery(params);
  const base = genre ? `#/genre/${encodeURIComponent(genre)}` : "#/albums";
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v === null || v === "" || v === false ? next.delete(k) : next.set(k, v));
    const search = next.toString();
    location.hash = search ? `${base}?${search}` : base;
  };
  const orderSelect = h("select#album-order", { "aria-label": "Order", onchange: (e) => go({ order: e.target.value === "name" ? null : e.target.value }) },
    Object.entries(ALBUM_ORDERS).map(([value, label]) => h("option", { value, selected: value === query.order }, label)));
  const desc = h("button#album-desc.btn.small.ghost", {
    type: "button", "aria-pressed": String(query.descending), title: "Reverse the order", disabled: query.order === "random",
    onclick: () => go({ desc: query.descending ? null : "1" }),
  }, query.descending ? "↑ Descending" : "↓ Ascending");
  const yearInput = (name, label) => h("input.year-input", {
    type: "number", min: "0", max: "9999", inputmode: "numeric", placeholder: label, "aria-label": label, id: `album-${name}`,
    value: params.get(name) || "", onchange: (e) => go({ [name]: e.target.value.trim() }),
  });
  const genreSelect = h("select#album-genre", {
    "aria-label": "Genre",
    onchange: (e) => {
      const search = params.toString();
      const target = e.target.value ? `#/genre/${encodeURIComponent(e.target.value)}` : "#/albums";
      location.hash = search ? `${target}?${search}` : target;
    },
  }, h("option", { value: "" }, "All genres"), genre ? h("option", { value: genre, selected: true }, genre) : null);
  bus.request("library.genre.list", {}).then((genres) => {
    for (const g of genres) if (g.name !== genre && g.album_count) genreSelect.append(h("option", { value: g.name }, g.name));
  }).catch(() => {});
  const filters = h("div.list-filters",
    orderSelect, desc, genreSelect,
    h("span.year-range", yearInput("from", "From year"), "–", yearInput("to", "To year")),
    query.order === "random" ? button("⟳ Shuffle again", () => {
      history.replaceState({ ...(history.state || {}), place: null }, "");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    }, { cls: "btn small ghost", id: "album-reshuffle" }) : null);
  const count = h("span.muted.count");
  clear(view, header(genre || "Albums", count), filters);
  const body = h("div");
  view.append(body);
  const payload = { order: query.order, descending: query.descending };
  if (query.year_from !== null) payload.year_from = query.year_from;
  if (query.year_to !== null) payload.year_to = query.year_to;
  if (genre) payload.genre = genre;
  const paged = pagedList(
    body,
    (offset, limit, seed) => bus.request("library.album.list", { offset, limit, ...payload, ...(seed && query.order === "random" ? { seed } : {}) }),
    (items, total) => {
      count.textContent = plural(total, "album");
      if (items.length) return albumGrid(items);
      if (query.order in { most_played: 1, recently_played: 1, starred: 1, top_rated: 1 }) return h("p.empty", "None yet: albums you play, star or rate show here.");
      return h("p.empty", "No albums here. ", h("span.muted", query.year_from !== null || query.year_to !== null ? "Try other years." : "Add a music folder and scan it."));
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
            button("⤓ Download", () => download("album", album.id), { cls: "btn", id: "album-download", title: "Download the album (zip)" }),
            starButton("album", album.id, album.title)),
          h("p.album-rating", ratingStars("album", album.id, album.title)))),
      h("div.track-list", { role: "table", "aria-label": "Tracks" }, rows));
  };
  await render().catch((err) => clear(view, h("p.empty", err.code === "not_found" ? "No such album." : err.message)));
  return onLibraryChanged(() => render().catch(() => {}));
}

// -- search ----------------------------------------------------------------------------------------

let searchSeq = 0;
const PREVIEW = { artists: 8, albums: 6, tracks: 10 }; // the best of each kind, before "Show all"
const KIND_NAMES = { artists: "Artists", albums: "Albums", tracks: "Tracks" };

function artistChips(artists) {
  return h("div.chips", artists.map((a) => h("a.chip", { href: `#/artist/${a.id}`, dataset: { artist: a.id } }, a.name)));
}

function searchTracks(tracks) {
  prime(tracks);
  const ids = tracks.map((t) => t.id);
  return h("div.track-list", tracks.map((t, i) => trackRow(t, { index: i, showAlbum: true, showNumber: false, onPlay: () => playTracks(ids, i).catch(fail) })));
}

const RENDER_KIND = { artists: artistChips, albums: albumGrid, tracks: searchTracks };

export async function searchView(view, { q = "", kind = null }) {
  const input = document.getElementById("search");
  if (document.activeElement !== input) input.value = q;
  if (!q.trim()) {
    clear(view, header("Search"), h("p.empty.muted", "Type in the search box to find artists, albums and tracks."));
    return;
  }
  const query = q.slice(0, 200);
  const count = (page) => ` ${page.total}${page.total_exact === false ? "+" : ""}`; // totals stop counting at a limit
  if (kind in KIND_NAMES) {
    // "Show all" of one kind: pages as it scrolls.
    ++searchSeq;
    const total = h("span.muted.count");
    clear(view, header(`${KIND_NAMES[kind]} for “${q}”`, total),
      h("p", h("a#search-back", { href: `#/search/${encodeURIComponent(q)}` }, "← All results")));
    const body = h("div.search-results.search-all", { dataset: { kind } });
    view.append(body);
    const paged = pagedList(body,
      async (offset, limit) => (await bus.request("library.search.query", { query, offset, limit }))[kind],
      (items, n) => {
        total.textContent = plural(n, KIND_NAMES[kind].toLowerCase().replace(/s$/, ""));
        return items.length ? RENDER_KIND[kind](items) : h("p.empty", "Nothing found.");
      });
    return () => paged.stop();
  }
  const seq = ++searchSeq;
  if (!view.querySelector(".search-results")) clear(view, header(`Results for “${q}”`), spinner());
  let result;
  try {
    result = await bus.request("library.search.query", { query, limit: Math.max(...Object.values(PREVIEW)) });
  } catch (err) {
    if (seq === searchSeq) clear(view, header("Search"), h("p.empty", err.message));
    return;
  }
  if (seq !== searchSeq) return; // a newer query answered (or will)
  const none = Object.keys(KIND_NAMES).every((k) => !result[k].total);
  const section = (k) => {
    const page = result[k];
    if (!page.items.length) return null;
    const shown = page.items.slice(0, PREVIEW[k]);
    return h(`section.search-section.search-${k}`, { "aria-label": KIND_NAMES[k] },
      h("div.view-head", h("h2", KIND_NAMES[k], h("span.muted.small", count(page))),
        page.total > shown.length ? h("a.btn.small.ghost.show-all", { href: `#/search/${encodeURIComponent(q)}?kind=${k}`, dataset: { kind: k } }, "Show all") : null),
      RENDER_KIND[k](shown));
  };
  clear(view,
    h("div.search-results",
      header(`Results for “${q}”`),
      none ? h("p.empty", "Nothing found.") : null,
      section("artists"), section("albums"), section("tracks")));
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
