// The queue of the target tracker (this device, the party, or a remote device): play an
// entry, remove it, drag it elsewhere (pointer events: mouse and touch alike), clear.

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
    const key = s ? JSON.stringify([s.queue, s.index, s.playing, entry.state.device, entry.state.name]) : "none";
    if (key === renderedKey) return;
    renderedKey = key;
    const who = session.remoteId ? s?.device || "another device" : session.partyId && watched === session.partyId ? s?.name || "the party" : "this device";
    const queue = s?.queue || [];
    const start = Math.max(0, Math.min((s?.index ?? 0) - 50, queue.length - MAX_ROWS));
    const rows = queue.slice(start, start + MAX_ROWS).map((id, i) => row(id, start + i, s));
    clear(container,
      h("div.panel-head",
        h("div", h("h2", "Queue"), h("p.muted.small", `${plural(queue.length, "track")} · on ${who}`)),
        queue.length ? button("Clear", () => act("player.queue.clear", {}, watched), { cls: "btn small ghost" }) : null),
      queue.length ? h("ol.queue", { "aria-label": "Queue" }, rows) : h("p.empty.muted", "The queue is empty. Play an album or add tracks."));
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
      h("span.q-handle", { title: "Drag to reorder", "aria-hidden": "true", onpointerdown: (e) => startDrag(e, index) },
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
