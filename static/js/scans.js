// Library scans: every library has a `library.scan` tracker (key = library id) that any
// user may follow. We follow them all so that the browsing views refresh by themselves
// when a scan adds, changes or removes music; staff also see and start scans here.

import { bus } from "./bus.js";
import * as trackers from "./trackers.js";
import { debounce } from "./ui.js";

const RELIST_MS = 60000; // new libraries appear on the next listing
const scans = new Map(); // tracker id -> {id, library (id), stop}
const libraryListeners = new Set();
const listListeners = new Set();
const COUNTS = ["added", "updated", "removed"];

const libraryChanged = debounce(() => {
  for (const fn of libraryListeners) fn();
}, 700);

/** `fn()` when a scan changed the catalogue (debounced). Returns a function that stops. */
export function onLibraryChanged(fn) {
  libraryListeners.add(fn);
  return () => libraryListeners.delete(fn);
}

/** `fn(list)` when the set of scan trackers changes. */
export function onScansListed(fn) {
  listListeners.add(fn);
  return () => listListeners.delete(fn);
}

export function list() {
  return [...scans.values()].sort((a, b) => a.library - b.library);
}

function onScanChange(entry, change) {
  if (!change.action) return;
  const touched = COUNTS.some((k) => (change.changes[k] || 0) > 0);
  const done = change.changes.status === "completed";
  if (touched || (done && COUNTS.some((k) => entry.state[k] > 0))) libraryChanged();
}

export function follow(trackerId, libraryId) {
  if (scans.has(trackerId)) return;
  const stop = trackers.watch(trackerId, onScanChange);
  scans.set(trackerId, { id: trackerId, library: Number(libraryId), stop });
  for (const fn of listListeners) fn(list());
}

export async function refresh() {
  const found = await bus.request("tracker.list", { kind: "library.scan" });
  for (const t of found) follow(t.tracker, t.key);
  return list();
}

export function start() {
  bus.on("system.session.welcome", () => refresh().catch(() => {}));
  setInterval(() => bus.status === "open" && refresh().catch(() => {}), RELIST_MS);
}
