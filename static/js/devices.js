// Devices: this browser and the user's other device players, live. From here the user
// controls another device (the player bar switches to it), hands this queue off to it, or
// takes its queue over (player.queue.transfer, sent to the source device).

import { bus } from "./bus.js";
import { livePosition } from "./clock.js";
import { audio } from "./engine.js";
import { session, act, audioSourceId, onChange, renameDevice, setRemote, setParty } from "./session.js";
import { positionReport } from "./sync.js";
import * as trackers from "./trackers.js";
import { track as loadTrack, known } from "./tracks.js";
import { button, clear, fail, fmtTime, h, toast } from "./ui.js";

const RELIST_MS = 15000; // devices registered elsewhere show up on the next listing

export function devicesComponent(container, { compact = false } = {}) {
  const watching = new Map(); // tracker id -> stop
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
        ? h("details.offline", { open: !!wasOpen }, h("summary.muted", `Offline devices (${offline.length})`), offline.map((d) => card(d.tracker, false, d)))
        : null);
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
    const body = [
      h("div.dev-head",
        h("span.dev-dot", { class: online ? "online" : seen ? "offline" : "", title: online ? "Online" : seen?.last_seen ? `Last seen ${new Date(seen.last_seen).toLocaleString()}` : "" }),
        h("div.dev-name", h("strong", name), isThis ? h("span.badge", "this device") : null, controlling ? h("span.badge.accent", "controlling") : null, !row.mine && !isThis && row.owner !== undefined ? h("span.badge", "shared with you") : null),
        h("span.dev-status", { class: s.playing ? "playing" : "", dataset: { status: status.toLowerCase() } }, status, seen && !online ? " · offline" : "")),
      trackId !== null
        ? h("div.dev-now", h("span", t?.title || "…"), h("span.muted", t ? ` · ${t.artist || ""}` : ""), h("span.muted.dev-pos", { dataset: { tracker: id } }, ""))
        : null,
      s.transferred_to ? h("p.muted.small", "Handed off to ", trackers.get(s.transferred_to)?.state?.device || "another device") : null,
    ];
    const buttons = [];
    if (isThis) {
      if (!compact) buttons.push(button("Rename", promptRename, { cls: "btn small ghost" }));
      if (session.partyId) buttons.push(button("Stop listening to the party", () => setParty(null), { cls: "btn small ghost" }));
    } else {
      if (trackId !== null) buttons.push(button(s.playing ? "Pause" : "Play", () => act(s.playing ? "player.playback.pause" : "player.playback.play", {}, id), { cls: "btn small", "data-act": "toggle" }));
      buttons.push(controlling
        ? button("Stop controlling", () => setRemote(null), { cls: "btn small ghost" })
        : button("Control", () => setRemote(id), { cls: "btn small", "data-act": "control" }));
      const own = trackers.get(session.deviceId)?.state;
      if (own?.queue?.length) buttons.push(button("Send my queue here", () => handOff(session.deviceId, id, name), { cls: "btn small", "data-act": "send" }));
      if (s.queue?.length) buttons.push(button("Play it here", () => handOff(id, session.deviceId, "this device"), { cls: "btn small primary", "data-act": "take" }));
    }
    return h("div.device-card", { class: controlling ? "active" : null, dataset: { tracker: id, device: name } }, body, buttons.length ? h("div.dev-actions", buttons) : null);
  }

  async function handOff(from, to, toName) {
    if (session.partyId && to === session.deviceId) setParty(null); // listen to this device again
    // This page plays the source: the hand-off continues from where its audio actually is.
    const report = from === audioSourceId() ? positionReport(audio) : {};
    await act("player.queue.transfer", { to, ...report }, from);
    if (session.remoteId === from || session.remoteId === to) setRemote(null);
    toast(`Playing on ${toName}`);
  }

  function tickPositions() {
    for (const span of list.querySelectorAll(".dev-pos")) {
      const s = trackers.get(span.dataset.tracker)?.state;
      if (s) span.textContent = ` · ${fmtTime(livePosition(s))}`;
    }
  }

  const promptRename = () => promptDeviceRename().then(relist);

  container.append(list);
  const off = onChange(() => relist());
  const offWelcome = bus.on("system.session.welcome", () => relist());
  const offResync = bus.on("system.session.resync_required", () => relist());
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
    clearInterval(every);
    clearInterval(ticking);
    for (const stop of watching.values()) stop();
  };
}

export async function promptDeviceRename() {
  const name = prompt("Name this device", session.deviceName || "");
  if (name && name.trim()) await renameDevice(name).catch(fail);
}
