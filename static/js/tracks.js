// Track metadata by id. Queues hold bare track ids; titles come from library.track.get,
// fetched at most a few at a time (the server rate-limits each connection) and kept.
// Views that already have tracks (an album page, search results) prime the cache.

import { bus } from "./bus.js";
import { streamQuery } from "./playable.js";
import { session } from "./session.js";
import * as trackers from "./trackers.js";

const MAX_IN_FLIGHT = 4;
const cache = new Map(); // id -> track dict
const waiting = new Map(); // id -> promise
const queue = []; // ids to fetch
let inFlight = 0;

export function prime(tracks) {
  for (const track of tracks || []) if (track?.id && !cache.has(track.id)) cache.set(track.id, track);
}

/** The cached track, or undefined (then call `track(id)`). */
export function known(id) {
  return cache.get(id);
}

/** Resolves with the track dict (or null when it no longer exists). */
export function track(id) {
  if (cache.has(id)) return Promise.resolve(cache.get(id));
  if (!waiting.has(id)) {
    let settle;
    const promise = new Promise((resolve) => (settle = resolve));
    promise.settle = settle;
    waiting.set(id, promise);
    queue.push(id);
    pump();
  }
  return waiting.get(id);
}

function pump() {
  while (inFlight < MAX_IN_FLIGHT && queue.length) {
    const id = queue.shift();
    inFlight += 1;
    bus
      .request("library.track.get", { track: id })
      .then((result) => {
        cache.set(id, result);
        return result;
      })
      .catch((err) => (err.code === "not_found" ? { id, title: `Missing track ${id}`, missing: true } : null))
      .then((result) => {
        const promise = waiting.get(id);
        waiting.delete(id);
        promise?.settle(result);
      })
      .finally(() => {
        inFlight -= 1;
        pump();
      });
  }
}

/** This device's stream quality (player.quality.set): original, high or mobile. */
export function streamQuality() {
  return trackers.get(session.deviceId)?.state?.quality || "original";
}

/** The stream of a track for this device: the file as it is when this browser plays it
 * and the device's quality allows, else a transcode (see playable.js). */
export function streamUrl(id, quality = streamQuality()) {
  return `/api/v1/tracks/${id}/stream${streamQuery(cache.get(id), quality)}`;
}
