// Plays recorded like Subsonic scrobbling, by the page that actually plays the audio (a
// remote control records nothing; in a party each listening page records for its own
// user): "now playing" when a play starts, and the play once half the track or 4 minutes
// of audio actually played (the time the element advanced while playing, not wall time).
// Each play has an id drawn when it starts (engine.js), so the server records it once.

import { bus } from "./bus.js";
import { elements, newPlayId, onEntry } from "./engine.js";

const MAX_PLAY_S = 240;
const STEP_MAX_S = 1.5; // a larger jump between two time updates is a seek, not playing
const plays = new Map(); // element -> {trackId, playId, heard, last, started, recorded}

function begin(el, entry) {
  plays.set(el, { trackId: entry.trackId, playId: entry.playId, heard: 0, last: null, started: false, recorded: false });
}

function record(play, submission) {
  const payload = { track: play.trackId, submission };
  if (submission) payload.play_id = play.playId;
  return bus.request("play.record", payload).catch(() => {
    if (submission) play.recorded = false; // tried again on the next time update
  });
}

function onPlaying(event) {
  const play = plays.get(event.target);
  if (!play || play.started) return;
  play.started = true;
  record(play, false);
}

function onTimeUpdate(event) {
  const el = event.target;
  const play = plays.get(el);
  if (!play) return;
  const now = el.currentTime;
  if (play.last !== null && (!el.paused || event.type === "ended") && !el.seeking) {
    const step = now - play.last;
    if (step > 0 && step < STEP_MAX_S) play.heard += step;
    if (play.recorded && now < 1 && play.last > now + 5) {
      // Played again from the start (a restart): a new play.
      begin(el, { trackId: play.trackId, playId: newPlayId() });
    }
  }
  play.last = now;
  const duration = el.duration;
  const needed = Number.isFinite(duration) && duration > 0 ? Math.min(duration / 2, MAX_PLAY_S) : MAX_PLAY_S;
  if (!play.recorded && play.heard >= needed) {
    play.recorded = true;
    record(play, true);
  }
}

export function start() {
  onEntry(begin);
  for (const el of elements) {
    el.addEventListener("playing", onPlaying);
    el.addEventListener("timeupdate", onTimeUpdate);
    el.addEventListener("ended", onTimeUpdate);
  }
}
