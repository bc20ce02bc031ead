// Who is listening where: this browser's device player, the party it listens to (if
// any) and the tracker the player bar controls (this device, the party, or another
// device chosen in the devices panel).
//
// - audio source: the tracker whose state this page's <audio> follows: the party when
//   joined, else this device's player.
// - target: what the player bar shows and its buttons act on: a remote device when one
//   is picked, else the audio source.
//
// A device is a browser: its key (a random id in localStorage) names its player, so
// renaming keeps the player. Tabs of one browser are one device with one audio output:
// the tab holding the Web Lock "audio-output-<key>" plays (`session.ownsOutput`), the
// others follow it as remotes and the next one takes over when it closes.

import { bus } from "./bus.js";
import * as trackers from "./trackers.js";

const boot = JSON.parse(document.getElementById("boot")?.textContent || "{}");

export const session = {
  user: { id: boot.user_id, username: boot.username, is_staff: !!boot.is_staff },
  deviceName: null,
  deviceId: null,
  partyId: null,
  remoteId: null,
  ownsOutput: false, // this tab plays the device's audio (see claimOutput)
};

const listeners = new Set();
const outputListeners = new Set();
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

// A player press made while offline is dropped unless the connection is back within this
// many milliseconds: several "next" pressed offline must not skip several tracks later.
export const PRESS_MAX_AGE_MS = 4000;

/** Send a tracker action to `tracker` (default: the target). */
export async function act(name, payload = {}, tracker = targetId(), extra = {}) {
  if (!tracker) throw Object.assign(new Error("This device is not registered yet."), { code: "disconnected" });
  return bus.request(name, { ...payload, tracker, ...extra }, { maxAgeMs: PRESS_MAX_AGE_MS });
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

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "b-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This browser's device key. A browser that registered before keys keeps its player: its name was its key. */
export function deviceKey() {
  let key = localStorage.getItem("deviceKey");
  if (!key) {
    key = localStorage.getItem("deviceName") || newKey();
    localStorage.setItem("deviceKey", key);
  }
  return key;
}

function follow(slot, id, fn = () => {}) {
  stops[slot]?.();
  stops[slot] = id ? trackers.watch(id, fn) : null;
}

// A rename made anywhere (another tab, another device's devices page) shows here.
function followOwnName(entry) {
  const name = entry.state?.device;
  if (!name || entry.id !== session.deviceId || name === session.deviceName) return;
  session.deviceName = name;
  localStorage.setItem("deviceName", name);
  changed();
}

/** Register this browser as a device (on every (re)connection: it joins the player's group). */
export async function register() {
  const key = deviceKey();
  const result = await bus.request("player.device.register", { name: deviceName(), key });
  session.deviceName = result.state?.device || deviceName();
  localStorage.setItem("deviceName", session.deviceName);
  if (session.deviceId !== result.tracker) {
    session.deviceId = result.tracker;
    follow("device", result.tracker, followOwnName);
  }
  claimOutput(key);
  changed();
  return result;
}

/** Rename this device: the same player (queue, volume) under a new name. */
export async function renameDevice(name) {
  name = name.trim();
  if (!name || name === session.deviceName) return;
  await act("player.device.rename", { name }, session.deviceId);
  session.deviceName = name;
  localStorage.setItem("deviceName", name);
  changed();
}

/** Forget one of your devices (deleted with its queue; a live one starts afresh). */
export function forgetDevice(id) {
  return bus.request("player.device.forget", { tracker: id });
}

/**
 * This device was forgotten (from here or elsewhere): start afresh as a new device. Tabs
 * of this browser hear it too; the first one picks the new key and the others use it.
 */
export async function startAfresh(forgotten) {
  if (forgotten !== session.deviceId) return false;
  const usedKey = outputKey;
  if (localStorage.getItem("deviceKey") === usedKey || localStorage.getItem("deviceKey") === null) {
    localStorage.setItem("deviceKey", newKey());
  }
  session.deviceId = null;
  follow("device", null);
  changed();
  await register();
  return true;
}

// -- one audio output per device (tabs of one browser) -----------------------------------

let outputKey = null;
let releaseOutput = null;

function setOwnsOutput(owns) {
  if (session.ownsOutput === owns) return;
  session.ownsOutput = owns;
  for (const fn of outputListeners) fn(owns);
  changed();
}

/** Call `fn(ownsOutput)` when this tab gains or loses the device's audio output. */
export function onOutputChange(fn) {
  outputListeners.add(fn);
  return () => outputListeners.delete(fn);
}

/**
 * Ask for the device's audio output: granted at once when no other tab of this browser
 * holds it, else when that tab closes. Without Web Locks (a page served over plain HTTP
 * from another host) every tab plays, as before.
 */
function claimOutput(key) {
  if (outputKey === key) return;
  releaseOutput?.();
  outputKey = key;
  if (!navigator.locks) {
    setOwnsOutput(true);
    return;
  }
  setOwnsOutput(false);
  const waiting = new AbortController();
  let release;
  const held = new Promise((resolve) => (release = resolve));
  navigator.locks
    .request(`audio-output-${key}`, { signal: waiting.signal }, () => {
      if (outputKey !== key) return null;
      setOwnsOutput(true);
      return held;
    })
    .catch(() => {});
  releaseOutput = () => {
    waiting.abort();
    release();
    setOwnsOutput(false);
  };
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
