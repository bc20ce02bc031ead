// Devices: this browser and the user's other device players, live. From here the user
// controls another device (the player bar switches to it), hands this queue off to it, or
// takes its queue over (player.queue.transfer, sent to the source device), renames and
// forgets their devices. An offline device offers only what works without it: taking its
// queue over, renaming and forgetting it.

import { bus } from "./bus.js";
import { livePosition } from "./clock.js";
import { audio } from "./engine.js";
import { session, act, audioSourceId, forgetDevice, onChange, renameDevice, setRemote, setParty } from "./session.js";
import { positionReport } from "./sync.js";
import * as trackers from "./trackers.js";
import { QUALITIES } from "./playable.js";
import { track as loadTrack, known } from "./tracks.js";
import { askText, button, clear, fail, fmtTime, h, toast } from "./ui.js";

const RELIST_MS = 15000; // devices registered elsewhere show up on the next listing

export function devicesComponent(container, { compact = false, renameThis = false } = {}) {
  const watching = new Map(); // tracker id -> stop
  // The card being renamed or asked "forget?", kept across re-renders: {id, mode, draft}.
  let editing = renameThis ? { id: "this", mode: "rename", draft: null, focus: true } : null;
  let renderLater = false;
  let devices = []; // tracker.list rows (kind player)
  const list = h("div.devices");
  const ticking = setInterval(tickPositions, 500);

  const presence = new Map(); // tracker id -> {online, last_seen}

  async function loadPresence() {
    try {
      const result = await bus.request("player.presence.list", {});
      for (const d of result.devices || []) presence.set(d.tracker, d);
    } catch {
      // An older server without presence: devices show without online state.
    }
  }

  async function relist() {
    try {
      [devices] = await Promise.all([bus.request("tracker.list", { kind: "player" }), loadPresence()]);
    } catch {
      return;
    }
    // Online devices first, then the most recently seen.
    const rank = (d) => [presence.get(d.tracker)?.online ? 1 : 0, presence.get(d.tracker)?.last_seen || 0];
    devices.sort((a, b) => {
      const [ra, rb] = [rank(a), rank(b)];
      return rb[0] - ra[0] || rb[1] - ra[1];
    });
    // Follow the devices that are (or may be) online; offline ones show their listed state.
    const live = new Set(devices.filter((d) => presence.get(d.tracker)?.online !== false).map((d) => d.tracker));
    for (const [id, stop] of watching) {
      if (live.has(id)) continue;
      stop();
      watching.delete(id);
    }
    for (const id of live) if (!watching.has(id)) watching.set(id, trackers.watch(id, render));
    render();
  }

  function render() {
    // Never rebuild under the user's typing: render once they are done.
    if (list.contains(document.activeElement) && document.activeElement.matches("input.dev-rename")) {
      renderLater = true;
      return;
    }
    renderLater = false;
    const others = devices.filter((d) => d.tracker !== session.deviceId);
    const offline = others.filter((d) => presence.get(d.tracker)?.online === false);
    const online = others.filter((d) => !offline.includes(d));
    const wasOpen = list.querySelector("details.offline")?.open;
    clear(list,
      h("h3.section", "This device"),
      session.deviceId ? card(session.deviceId, true) : h("p.muted", "Registering…"),
      h("h3.section", "Your other devices"),
      online.length ? online.map((d) => card(d.tracker, false, d)) : h("p.empty.muted", "No other device is online. Open this page on another computer or phone while logged in."),
      offline.length
        ? h("details.offline", { open: !!wasOpen || offline.some((d) => d.tracker === editing?.id) }, h("summary.muted", `Offline devices (${offline.length})`), offline.map((d) => card(d.tracker, false, d)))
        : null);
    const input = editing?.focus && list.querySelector("input.dev-rename");
    if (input) {
      editing.focus = false;
      input.focus();
      input.select();
    }
  }

  function card(id, isThis, row = {}) {
    const entry = trackers.get(id);
    const s = entry?.state || row.state || {};
    const trackId = s.index !== null && s.index !== undefined ? s.queue?.[s.index] : null;
    const t = trackId !== null ? known(trackId) : null;
    if (trackId !== null && !t) loadTrack(trackId).then(render);
    const controlling = session.remoteId === id;
    const name = s.device || row.key || "Device";
    const status = trackId === null ? "Idle" : s.playing ? "Playing" : "Paused";
    const seen = presence.get(id);
    const online = isThis || seen?.online;
    const offline = !isThis && seen?.online === false;
    const mine = isThis || row.mine !== false;
    const edit = editing && (editing.id === id || (isThis && editing.id === "this")) ? editing : null;
    const body = [
      h("div.dev-head",
        h("span.dev-dot", { class: online ? "online" : seen ? "offline" : "", title: online ? "Online" : seen?.last_seen ? `Last seen ${new Date(seen.last_seen).toLocaleString()}` : "" }),
        h("div.dev-name", h("strong", name), isThis ? h("span.badge", "this device") : null,
          isThis && !session.ownsOutput ? h("span.badge.muted", { title: "Another tab of this browser plays this device's audio" }, "audio in another tab") : null, controlling ? h("span.badge.accent", "controlling") : null, !row.mine && !isThis && row.owner !== undefined ? h("span.badge", "shared with you") : null),
        h("span.dev-status", { class: s.playing ? "playing" : "", dataset: { status: status.toLowerCase() } }, status, seen && !online ? " · offline" : "")),
      trackId !== null
        ? h("div.dev-now", h("span", t?.title || "…"), h("span.muted", t ? ` · ${t.artist || ""}` : ""), h("span.muted.dev-pos", { dataset: { tracker: id } }, ""))
        : null,
      s.transferred_to ? h("p.muted.small", "Handed off to ", trackers.get(s.transferred_to)?.state?.device || "another device") : null,
    ];
    body.push(qualityPicker(id, s.quality || "original"));
    const buttons = [];
    if (edit?.mode === "rename") {
      buttons.push(renameForm(id, isThis, name, edit));
    } else if (edit?.mode === "forget") {
      buttons.push(
        h("span.dev-confirm", "Forget this device? Its queue goes with it."),
        button("Forget", () => forget(id, name), { cls: "btn small danger", "data-act": "forget-confirm" }),
        button("Cancel", () => setEditing(null), { cls: "btn small ghost" }));
    } else if (isThis) {
      if (!compact) buttons.push(button("Rename", () => setEditing({ id, mode: "rename", draft: null }), { cls: "btn small ghost", "data-act": "rename" }));
      if (session.partyId) buttons.push(button("Stop listening to the party", () => setParty(null), { cls: "btn small ghost" }));
    } else {
      if (!offline) {
        // Playing, controlling and sending need the device to be there.
        if (trackId !== null) buttons.push(button(s.playing ? "Pause" : "Play", () => act(s.playing ? "player.playback.pause" : "player.playback.play", {}, id), { cls: "btn small", "data-act": "toggle" }));
        buttons.push(controlling
          ? button("Stop controlling", () => setRemote(null), { cls: "btn small ghost" })
          : button("Control", () => setRemote(id), { cls: "btn small", "data-act": "control" }));
        const own = trackers.get(session.deviceId)?.state;
        if (own?.queue?.length) buttons.push(button("Send my queue here", () => handOff(session.deviceId, id, name), { cls: "btn small", "data-act": "send" }));
      }
      if (s.queue?.length) buttons.push(button("Play it here", () => handOff(id, session.deviceId, "this device", { play: !s.playing }), { cls: "btn small primary", "data-act": "take" }));
      if (mine && !compact) {
        buttons.push(button("Rename", () => setEditing({ id, mode: "rename", draft: null }), { cls: "btn small ghost", "data-act": "rename" }));
        buttons.push(button("Forget", () => setEditing({ id, mode: "forget" }), { cls: "btn small ghost", "data-act": "forget" }));
      }
    }
    return h("div.device-card", { class: [controlling ? "active" : "", offline ? "is-offline" : ""].join(" ").trim() || null, dataset: { tracker: id, device: name, online: offline ? "false" : "true" } },
      body, buttons.length ? h("div.dev-actions", buttons) : null);
  }

  function setEditing(value) {
    if (list.contains(document.activeElement)) document.activeElement.blur();
    editing = value ? { ...value, focus: true } : null;
    render();
  }

  function renameForm(id, isThis, name, edit) {
    const input = h("input.dev-rename", { type: "text", maxlength: "100", required: true, value: edit.draft ?? name, "aria-label": "Device name",
      oninput: () => (edit.draft = input.value),
      onkeydown: (e) => e.key === "Escape" && setEditing(null),
      onblur: () => renderLater && setTimeout(() => !list.contains(document.activeElement) && render(), 0) });
    const form = h("form.dev-rename-form", {
      onsubmit: (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        const done = isThis ? renameDevice(value) : act("player.device.rename", { name: value }, id);
        done.then(() => {
          setEditing(null);
          toast(`Renamed to ${value}`);
          relist();
        }, fail);
      },
    }, input, h("button.btn.small.primary", { type: "submit", "data-act": "rename-save" }, "Save"), button("Cancel", () => setEditing(null), { cls: "btn small ghost" }));
    return form;
  }

  async function forget(id, name) {
    await forgetDevice(id);
    editing = null;
    if (session.remoteId === id) setRemote(null);
    toast(`${name} forgotten`);
    devices = devices.filter((d) => d.tracker !== id);
    relist();
  }

  function qualityPicker(id, current) {
    const labels = { original: "Original", high: "High (320 kbit/s)", mobile: "Mobile (96 kbit/s)" };
    const select = h("select.dev-quality", {
      "aria-label": "Stream quality",
      dataset: { tracker: id },
      onchange: () => act("player.quality.set", { quality: select.value }, id).catch(fail),
    }, QUALITIES.map((q) => h("option", { value: q, selected: q === current }, labels[q])));
    return h("label.dev-quality-row.muted.small", "Quality ", select);
  }

  /** Hand ``from``'s queue to ``to``. The transfer keeps the source's playing/paused state;
   * ``play`` (the "Play it here" button, which says so, when the source is paused: an offline
   * device usually is) then starts it on the target. */
  async function handOff(from, to, toName, { play = false } = {}) {
    if (session.partyId && to === session.deviceId) setParty(null); // listen to this device again
    // This page plays the source: the hand-off continues from where its audio actually is.
    const report = from === audioSourceId() ? positionReport(audio) : {};
    await act("player.queue.transfer", { to, ...report }, from);
    if (play) await act("player.playback.play", {}, to);
    if (session.remoteId === from || session.remoteId === to) setRemote(null);
    toast(`Playing on ${toName}`);
  }

  function tickPositions() {
    for (const span of list.querySelectorAll(".dev-pos")) {
      const s = trackers.get(span.dataset.tracker)?.state;
      if (s) span.textContent = ` · ${fmtTime(livePosition(s))}`;
    }
  }

  container.append(list);
  const off = onChange(() => relist());
  const offWelcome = bus.on("system.session.welcome", () => relist());
  const offResync = bus.on("system.session.resync_required", () => relist());
  const offForgotten = bus.on("player.device.forgotten", (p) => {
    if (editing?.id === p.tracker) editing = null;
    devices = devices.filter((d) => d.tracker !== p.tracker);
    render();
  });
  const offPresence = bus.on("player.device.presence", (p) => {
    const known = devices.some((d) => d.tracker === p.tracker);
    presence.set(p.tracker, p);
    if (known) render();
    else relist(); // a device registered just now
  });
  const every = setInterval(relist, RELIST_MS);
  relist();
  return () => {
    off();
    offWelcome();
    offResync();
    offPresence();
    offForgotten();
    clearInterval(every);
    clearInterval(ticking);
    for (const stop of watching.values()) stop();
  };
}
