// The queue of the target tracker (this device, the party, or a remote device): play an
// entry, remove it, drag it elsewhere (pointer events: mouse and touch alike) or move it with
// the keyboard (its handle: ↑/↓), clear. With shuffle on, the entries are listed in the order
// they will play (the state's `order`), and reordering waits until shuffle is off.

import { session, targetId, act, onChange } from "./session.js";
import * as trackers from "./trackers.js";
import { track as loadTrack, known } from "./tracks.js";
import { button, clear, fail, fmtTime, h, plural } from "./ui.js";

const MAX_ROWS = 500; // a longer queue shows its first entries around the current one

export function queueComponent(container) {
  let watched = null;
  let stopWatch = null;
  let renderedKey = null;

  function render() {
    const entry = watched ? trackers.get(watched) : null;
    const s = entry?.state;
    const key = s ? JSON.stringify([s.queue, s.index, s.playing, s.shuffle, s.order, entry.state.device, entry.state.name]) : "none";
    if (key === renderedKey) return;
    renderedKey = key;
    const who = session.remoteId ? s?.device || "another device" : session.partyId && watched === session.partyId ? s?.name || "the party" : "this device";
    const queue = s?.queue || [];
    shuffled = !!s?.shuffle && Array.isArray(s.order) && s.order.length === queue.length;
    const sequence = shuffled ? s.order : queue.map((_, i) => i); // queue indexes, in play order
    const at = Math.max(0, sequence.indexOf(s?.index ?? 0));
    const start = Math.max(0, Math.min(at - 50, sequence.length - MAX_ROWS));
    const rows = sequence.slice(start, start + MAX_ROWS).map((index) => row(queue[index], index, s));
    const focused = container.querySelector(".q-handle:focus")?.closest(".q-row")?.dataset.index;
    clear(container,
      h("div.panel-head",
        h("div", h("h2", "Queue"), h("p.muted.small", `${plural(queue.length, "track")} · on ${who}`),
          shuffled ? h("p.muted.small.q-shuffled", "Shuffled: listed in the order they will play") : null),
        queue.length ? button("Clear", () => act("player.queue.clear", {}, watched), { cls: "btn small ghost" }) : null),
      queue.length ? h("ol.queue", { "aria-label": shuffled ? "Queue, in shuffled play order" : "Queue", class: shuffled ? "shuffled" : null }, rows)
        : h("p.empty.muted", "The queue is empty. Play an album or add tracks."));
    if (moved !== null) {
      container.querySelector(`.q-row[data-index="${moved}"] .q-handle`)?.focus();
      moved = null;
    } else if (focused !== undefined) container.querySelector(`.q-row[data-index="${focused}"] .q-handle`)?.focus();
  }

  let shuffled = false;
  let moved = null; // the queue index a keyboard move put the focused entry at

  function moveBy(index, step, s) {
    const to = index + step;
    if (shuffled || to < 0 || to >= (s?.queue?.length ?? 0)) return;
    moved = to;
    act("player.queue.move", { from_index: index, to_index: to }, watched).catch(fail);
  }

  function row(id, index, s) {
    const t = known(id);
    const title = h("span.q-title", t?.title || "…");
    const current = index === s.index;
    const artist = h("span.q-artist.muted", t?.artist || "");
    const dur = h("span.q-dur.muted", t ? fmtTime(t.duration_ms) : "");
    if (!t) loadTrack(id).then((x) => {
      title.textContent = x?.title || `Track ${id}`;
      artist.textContent = x?.artist || "";
      dur.textContent = x ? fmtTime(x.duration_ms) : "";
    });
    return h("li.q-row", { class: current ? "current" : null, dataset: { index, track: id } },
      h("button.q-handle", {
        type: "button", title: shuffled ? "Turn shuffle off to reorder" : "Drag, or press ↑/↓, to reorder",
        "aria-label": `Move ${t?.title || "this track"}: up or down arrow`, "aria-keyshortcuts": "ArrowUp ArrowDown",
        onpointerdown: (e) => (shuffled ? null : startDrag(e, index)),
        onkeydown: (e) => {
          if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
          e.preventDefault();
          e.stopPropagation();
          moveBy(index, e.key === "ArrowUp" ? -1 : 1, s);
        },
      },
      current ? h("span.q-now", { class: s.playing ? "eq" : "" }, h("i"), h("i"), h("i")) : "⋮⋮"),
      h("button.q-main", { type: "button", title: "Play", onclick: () => act("player.playback.play", { index }, watched).catch(fail) },
        title, artist),
      dur,
      button("✕", () => act("player.queue.remove", { index }, watched), { cls: "icon-btn small q-remove", title: "Remove", "aria-label": "Remove from queue" }));
  }

  // Drag to reorder: the row follows the pointer; on release, player.queue.move.
  function startDrag(e, from) {
    e.preventDefault();
    const list = container.querySelector(".queue");
    const dragged = list.querySelector(`[data-index="${from}"]`);
    dragged.classList.add("dragging");
    let to = from;
    const move = (ev) => {
      const rows = [...list.querySelectorAll(".q-row")];
      let target = rows.findIndex((r) => ev.clientY < r.getBoundingClientRect().top + r.offsetHeight / 2);
      if (target === -1) target = rows.length;
      const base = Number(rows[0]?.dataset.index || 0);
      // Dropping "before row k" means index k, or k-1 once the dragged row is taken out.
      to = base + (target > from - base ? target - 1 : target);
      for (const r of rows) r.classList.toggle("drop-before", false), r.classList.toggle("drop-after", false);
      const mark = rows[Math.min(target, rows.length - 1)];
      mark?.classList.add(target >= rows.length ? "drop-after" : "drop-before");
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      dragged.classList.remove("dragging");
      for (const r of list.querySelectorAll(".q-row")) r.classList.remove("drop-before", "drop-after");
      if (to !== from) act("player.queue.move", { from_index: from, to_index: to }, watched).catch(fail);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  function follow() {
    const id = targetId();
    if (id === watched) return;
    stopWatch?.();
    watched = id;
    renderedKey = null;
    stopWatch = id ? trackers.watch(id, render) : null;
    render();
  }

  const off = onChange(follow);
  follow();
  return () => {
    off();
    stopWatch?.();
  };
}
