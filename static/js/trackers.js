// Tracker store: the state of every tracker this page follows, by tracker id.
// `watch(id, fn)` subscribes (once per tracker, shared by every watcher) and calls
// `fn(entry, change)` on every change; `entry` = {id, kind, version, state, error}.
// `change` is {snapshot: true} or {action, payload, changes, live}.

import { bus } from "./bus.js";

const entries = new Map(); // id -> entry
const watchers = new Map(); // id -> Set(fn)
const anyWatchers = new Set();

function notify(entry, change) {
  for (const fn of [...(watchers.get(entry.id) || []), ...anyWatchers]) {
    try {
      fn(entry, change);
    } catch (err) {
      console.error(err);
    }
  }
}

function handlerFor(entry) {
  return {
    snapshot(state, version, kind) {
      entry.state = state;
      entry.version = version;
      entry.kind = kind || entry.kind;
      entry.error = null;
      notify(entry, { snapshot: true });
    },
    apply(action, live) {
      entry.state = { ...(entry.state || {}), ...action.changes };
      entry.version = action.version;
      notify(entry, { action: action.action, payload: action.payload, changes: action.changes, live });
    },
    error(err) {
      entry.error = err;
      notify(entry, { error: err });
    },
  };
}

/** Follow tracker `id`; `fn(entry, change)` on every change. Returns a function that stops. */
export function watch(id, fn) {
  let entry = entries.get(id);
  if (!entry) {
    entry = { id, kind: null, version: null, state: null, error: null };
    entries.set(id, entry);
  }
  if (!watchers.has(id)) watchers.set(id, new Set());
  const set = watchers.get(id);
  const first = set.size === 0;
  set.add(fn);
  if (first) bus.subscribe(id, handlerFor(entry));
  // Already followed: replay the current state, soon (never re-entrantly from watch()).
  else if (entry.state) queueMicrotask(() => set.has(fn) && entry.state && fn(entry, { snapshot: true }));
  return () => {
    set.delete(fn);
    if (set.size === 0) {
      watchers.delete(id);
      entries.delete(id);
      bus.unsubscribe(id);
    }
  };
}

/** The entry of a followed tracker, or undefined. */
export function get(id) {
  return entries.get(id);
}

/** Resolves once tracker `id` (followed) has a state. */
export function ready(id) {
  const entry = entries.get(id);
  if (entry?.state) return Promise.resolve(entry);
  return new Promise((resolve, reject) => {
    const stop = watch(id, (e, change) => {
      if (change.error) {
        stop();
        reject(change.error);
      } else if (e.state) {
        queueMicrotask(() => stop());
        resolve(e);
      }
    });
  });
}

/** `fn(entry, change)` for every change of every followed tracker. */
export function watchAll(fn) {
  anyWatchers.add(fn);
  return () => anyWatchers.delete(fn);
}
