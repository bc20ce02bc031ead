// Who is listening where: this browser's device player, the party it listens to (if
// any) and the tracker the player bar controls (this device, the party, or another
// device chosen in the devices panel).
//
// - audio source: the tracker whose state this page's <audio> follows: the party when
//   joined, else this device's player.
// - target: what the player bar shows and its buttons act on: a remote device when one
//   is picked, else the audio source.

import { bus } from "./bus.js";
import * as trackers from "./trackers.js";

const boot = JSON.parse(document.getElementById("boot")?.textContent || "{}");

export const session = {
  user: { id: boot.user_id, username: boot.username, is_staff: !!boot.is_staff },
  deviceName: null,
  deviceId: null,
  partyId: null,
  remoteId: null,
};

const listeners = new Set();
const stops = { device: null, party: null };

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed() {
  for (const fn of listeners) fn(session);
}

export const audioSourceId = () => session.partyId || session.deviceId;
export const targetId = () => session.remoteId || audioSourceId();

/** Send a tracker action to `tracker` (default: the target). */
export async function act(name, payload = {}, tracker = targetId(), extra = {}) {
  if (!tracker) throw Object.assign(new Error("This device is not registered yet."), { code: "disconnected" });
  return bus.request(name, { ...payload, tracker, ...extra });
}

// -- this device --------------------------------------------------------------------------

function defaultDeviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  // A short random tag keeps two browsers of one user apart (the name is the device key).
  const tag = Math.random().toString(16).slice(2, 6);
  return `${browser}${os ? " on " + os : ""} ${tag}`;
}

export function deviceName() {
  let name = localStorage.getItem("deviceName");
  if (!name) {
    name = defaultDeviceName();
    localStorage.setItem("deviceName", name);
  }
  return name;
}

function follow(slot, id, fn = () => {}) {
  stops[slot]?.();
  stops[slot] = id ? trackers.watch(id, fn) : null;
}

/** Register this browser as a device (on every (re)connection: it joins the player's group). */
export async function register() {
  const name = deviceName();
  const result = await bus.request("player.device.register", { name });
  session.deviceName = name;
  if (session.deviceId !== result.tracker) {
    session.deviceId = result.tracker;
    follow("device", result.tracker);
  }
  changed();
  return result;
}

/**
 * Rename this device. The server keys a device player by its name, so a new name is a
 * new player: the queue is handed over to it, playing or paused as before.
 */
export async function renameDevice(name) {
  name = name.trim();
  if (!name || name === session.deviceName) return;
  const old = session.deviceId;
  const oldState = trackers.get(old)?.state;
  const result = await bus.request("player.device.register", { name });
  localStorage.setItem("deviceName", name);
  session.deviceName = name;
  session.deviceId = result.tracker;
  follow("device", result.tracker);
  if (old && old !== result.tracker && oldState?.queue?.length) {
    await act("player.queue.transfer", { to: result.tracker }, old);
    if (!oldState.playing) await act("player.playback.pause", {}, result.tracker);
  }
  changed();
}

// -- the party this page listens to ----------------------------------------------------------

export function setParty(id) {
  if (session.partyId === id) return;
  session.partyId = id;
  if (id) localStorage.setItem("party", id);
  else localStorage.removeItem("party");
  // Leave party mode when the party is gone, over, or we are no longer a member.
  follow("party", id, (entry, change) => {
    const gone = change.error || entry.state?.ended || (entry.state && !entry.state.members?.includes(session.user.id));
    if (gone && session.partyId === id) queueMicrotask(() => setParty(null));
  });
  changed();
}

export function restoreParty() {
  const id = localStorage.getItem("party");
  if (id) setParty(id);
}

// -- the remote device the bar controls -----------------------------------------------------

export function setRemote(id) {
  id = id && id !== audioSourceId() ? id : null;
  if (session.remoteId === id) return;
  session.remoteId = id;
  follow("remote", id);
  changed();
}
