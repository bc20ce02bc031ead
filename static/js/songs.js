// The songs table (#/songs): every track, sortable by its column headers, loaded page by page
// as it scrolls, with a selection (click, Ctrl/⌘-click, Shift-click, the checkboxes, or the
// keyboard: arrows move, Shift+arrows extend, Space toggles, Enter plays, Ctrl+A all loaded)
// that can be played, queued or added to a playlist at once.

import { bus } from "./bus.js";
import { pagedList } from "./library.js";
import { onLibraryChanged } from "./scans.js";
import { addTracks, playTracks, tapToPlay, trackMenuButton } from "./trackmenu.js";
import { prime } from "./tracks.js";
import { addToPlaylistMenu } from "./playlistmenu.js";
import { starButton } from "./userdata.js";
import { announce, button, clear, fail, fmtTime, h, plural } from "./ui.js";

const COLUMNS = [
  ["title", "Title"], ["artist", "Artist"], ["album", "Album"], ["year", "Year"], ["duration", "Time"],
];

export function songsView(view, { params = new URLSearchParams() } = {}) {
  const order = COLUMNS.some(([key]) => key === params.get("order")) ? params.get("order") : "album";
  const descending = params.get("desc") === "1";
  const selected = new Set(); // indexes into the loaded tracks
  let anchor = null; // where a Shift selection starts
  let focusIndex = 0;
  let tracks = [];

  const sortBy = (key) => {
    const desc = key === order && !descending;
    location.hash = `#/songs?order=${key}${desc ? "&desc=1" : ""}`;
  };
  const count = h("span.muted.count");
  const bulk = h("div.bulk-bar", { role: "toolbar", "aria-label": "Selected tracks", hidden: true });
  const head = h("div.songs-row.songs-head", { role: "row" },
    h("span.sg-check", { role: "columnheader" }, h("input#songs-all", { type: "checkbox", "aria-label": "Select all loaded tracks", onchange: (e) => selectAll(e.target.checked) })),
    COLUMNS.map(([key, label]) => h(`span.sg-${key}`, { role: "columnheader", "aria-sort": key === order ? (descending ? "descending" : "ascending") : "none" },
      h("button.sort-btn", { type: "button", dataset: { sort: key }, onclick: () => sortBy(key) }, label, key === order ? (descending ? " ↓" : " ↑") : ""))),
    h("span.sg-more", { role: "columnheader", "aria-label": "Actions" }));
  const table = h("div.songs", { role: "grid", "aria-label": "Songs", "aria-multiselectable": "true", tabindex: "-1", onkeydown: onKey });
  clear(view, h("div.view-head", h("h1", "Songs"), count), bulk, table);
  table.append(head);
  const body = h("div.songs-body", { role: "rowgroup" });
  table.append(body);

  const ids = (indexes) => [...indexes].sort((a, b) => a - b).map((i) => tracks[i].id);

  function renderBulk() {
    bulk.hidden = selected.size === 0;
    if (bulk.hidden) return;
    const chosen = () => ids(selected);
    clear(bulk,
      h("strong#songs-selected", `${plural(selected.size, "track")} selected`),
      button("▶ Play", () => playTracks(chosen()), { cls: "btn small primary", id: "bulk-play" }),
      button("Play next", () => addTracks(chosen(), true), { cls: "btn small", id: "bulk-next" }),
      button("Add to queue", () => addTracks(chosen()), { cls: "btn small", id: "bulk-queue" }),
      button("≣+ Playlist", (e) => addToPlaylistMenu(chosen(), e.currentTarget), { cls: "btn small", id: "bulk-playlist" }),
      button("Clear", () => setSelection([]), { cls: "btn small ghost", id: "bulk-clear" }));
  }

  function paint() {
    body.querySelectorAll(".songs-row").forEach((row) => {
      const i = Number(row.dataset.index);
      const on = selected.has(i);
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", String(on));
      row.tabIndex = i === focusIndex ? 0 : -1;
      const box = row.querySelector(".sg-check input");
      if (box) box.checked = on;
    });
    const all = document.getElementById("songs-all");
    if (all) all.checked = tracks.length > 0 && selected.size === tracks.length;
    renderBulk();
  }

  function setSelection(indexes) {
    selected.clear();
    for (const i of indexes) selected.add(i);
    paint();
  }

  function selectAll(on) {
    setSelection(on ? tracks.map((_, i) => i) : []);
    if (on) announce(`${plural(selected.size, "track")} selected`);
  }

  function range(a, b) {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  }

  function choose(i, { shift = false, toggle = false } = {}) {
    if (shift && anchor !== null) setSelection(range(anchor, i));
    else if (toggle) {
      if (selected.has(i)) selected.delete(i);
      else selected.add(i);
      anchor = i;
      paint();
    } else {
      anchor = i;
      setSelection([i]);
    }
    focusIndex = i;
    paint();
  }

  function focusRow(i) {
    focusIndex = Math.max(0, Math.min(tracks.length - 1, i));
    paint();
    body.querySelector(`.songs-row[data-index="${focusIndex}"]`)?.focus();
  }

  function onKey(e) {
    const row = e.target.closest?.(".songs-row[data-index]");
    if (!row || e.target !== row) return; // keys inside a row's buttons are theirs
    const i = Number(row.dataset.index);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = i + (e.key === "ArrowDown" ? 1 : -1);
      if (next < 0 || next >= tracks.length) return;
      if (e.shiftKey) {
        if (anchor === null) anchor = i;
        setSelection(range(anchor, next));
      }
      focusRow(next);
    } else if (e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      choose(i, { toggle: true });
    } else if (e.key === "Enter") {
      e.preventDefault();
      playTracks(tracks.map((t) => t.id), i).catch(fail);
    } else if ((e.key === "a" || e.key === "A") && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      selectAll(true);
    } else if (e.key === "Escape" && selected.size) {
      e.preventDefault();
      setSelection([]);
    }
  }

  function row(t, i) {
    const play = () => playTracks(tracks.map((x) => x.id), i).catch(fail);
    const el = h("div.songs-row.track-row", {
      role: "row", tabindex: "-1", dataset: { index: i, track: t.id }, "aria-selected": "false",
      ondblclick: play,
      onclick: (e) => {
        if (e.target.closest("button, a, input")) return;
        if (window.matchMedia("(max-width: 720px)").matches && !e.shiftKey && !e.ctrlKey && !e.metaKey) return; // a tap plays (tapToPlay)
        choose(i, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
        el.focus();
      },
    },
    h("span.sg-check", h("input", { type: "checkbox", "aria-label": `Select ${t.title}`, onchange: () => choose(i, { toggle: true }) })),
    h("span.sg-title.tr-main", h("span.tr-title", t.title)),
    h("span.sg-artist.muted", t.artist || ""),
    h("span.sg-album.muted", t.album ? h("a", { href: `#/album/${t.album.id}` }, t.album.title) : ""),
    h("span.sg-year.muted", t.year ?? ""),
    h("span.sg-duration.muted", fmtTime(t.duration_ms)),
    h("span.sg-more", starButton("track", t.id, t.title), trackMenuButton(t)));
    tapToPlay(el, play);
    return el;
  }

  const paged = pagedList(
    body,
    (offset, limit) => bus.request("library.track.list", { offset, limit, order, descending }),
    (items, total) => {
      tracks = items;
      prime(items);
      count.textContent = plural(total, "track");
      const rows = items.map(row);
      queueMicrotask(paint);
      return items.length ? rows : h("p.empty", "No tracks yet.");
    },
  );
  const off = onLibraryChanged(() => paged.reload().catch(() => {}));
  return () => {
    off();
    paged.stop();
  };
}
