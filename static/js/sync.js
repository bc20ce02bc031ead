// Keeps the <audio> element on the timeline of the tracker it follows (this device's
// player or a party): the state says where the audio should be at a server time
// (`position_ms` at `position_at`, see clock.js), and this module makes it so.
//
// - Small errors are corrected by the playback rate, in proportion to the error
//   (at most MAX_RATE_CHANGE either way), so nothing is skipped or heard twice.
// - Large ones (over SEEK_ABOVE_MS: a stall, a seek, a late start) by seeking, to the
//   target plus the element's measured start-up latency: a seek or a play() takes that
//   long before the audio moves, so landing on the target itself leaves it behind.
// - A start stamped in the future (a party's next track, a hand-off: see
//   tracker/reducers/playback.py) is waited for, standing at `position_ms`: play() is
//   called that latency ahead of it. Until then a playing element plays on.
// The latency is learnt: after each seek or start, the error it left adjusts it.
//
// engine.js calls `correct` at its correction point and `startWhenDue` instead of
// play(); `ended` says whether the audio itself has finished the track.

import { serverNow, targetPosition } from "./clock.js";

export const SEEK_ABOVE_MS = 250;
const MAX_RATE_CHANGE = 0.05; // +-5%
const RATE_GAIN = 1 / 2000; // 100 ms off -> 5% faster or slower
const DEAD_BAND_MS = 4; // below this the rate is left at 1
const LEARN_AFTER_MS = 400; // the error is measured this long after a seek or start settles
const LEARN_GIVE_UP_MS = 3000; // a seek or start that never settles is not learnt from
const LEARN_WEIGHT = 0.6;
const RESEEK_ABOVE_MS = 60; // a seek or start that left more than this is done again (once), with the learnt latency
const MAX_LATENCY_MS = 600;
const END_MARGIN_MS = 250; // no seeking this close to the end: the audio plays out its track
const STATE_ENDED_MS = 1500; // the timeline is this far past the end and the audio still plays: over

const stats = { latencyMs: 80 }; // the element's start-up latency, learnt
let learning = null; // {since, kind} after a seek or start: the next settled error adjusts the latency
let startTimer = null;
let startFor = null;

/** Ms until a start stamped ahead (`position_at` in the future), else <= 0. */
export function startsIn(state) {
  return state.playing ? (state.position_at || 0) - serverNow() : 0;
}

/** Move the element to `seconds`, as the engine's own seek (not a listener's: see engine.js). */
function place(audio, seconds) {
  if (audio.placeAt) audio.placeAt(seconds);
  else audio.currentTime = seconds;
}

function setRate(audio, rate) {
  if (Math.abs(audio.playbackRate - rate) > 0.0005) audio.playbackRate = rate;
}

function seekTo(audio, ms, kind) {
  place(audio, Math.max(0, ms) / 1000);
  learning = { kind, since: null, began: performance.now() };
}

/** After a seek or start has settled: learn the latency from the error it left. True when it should be done again. */
function learn(audio, err) {
  if (!learning) return false;
  if (performance.now() - learning.began > LEARN_GIVE_UP_MS) {
    learning = null; // never settled (a stalling network): the rate takes over
    return false;
  }
  if (audio.paused || audio.seeking || audio.readyState < 3) return false;
  if (learning.since === null) learning.since = performance.now();
  if (performance.now() - learning.since < LEARN_AFTER_MS) return false;
  // Behind by x: the seek or start took x more than allowed for.
  if (Math.abs(err) < SEEK_ABOVE_MS) {
    stats.latencyMs = Math.min(MAX_LATENCY_MS, Math.max(0, stats.latencyMs - LEARN_WEIGHT * err));
  }
  const again = learning.kind !== "again" && Math.abs(err) > RESEEK_ABOVE_MS;
  learning = null;
  return again;
}

/**
 * Make the element follow `state` (it has metadata and is not seeking). Returns the
 * error (ms) before correcting, or null when there is nothing to correct.
 */
export function correct(audio, state) {
  if (!state.playing || audio.paused) {
    setRate(audio, 1);
    if (!state.playing && audio.readyState >= 1) {
      // Paused: stand where the state says (a seek while paused, a hand-off).
      const target = targetPosition(state);
      if (Math.abs(audio.currentTime * 1000 - target) > SEEK_ABOVE_MS / 5) place(audio, target / 1000);
    }
    return null;
  }
  if (startsIn(state) > 0) return null; // a start stamped ahead: correct once it is due
  const target = targetPosition(state);
  const durationMs = audio.duration * 1000;
  const err = audio.currentTime * 1000 - target;
  const again = learn(audio, err);
  const nearEnd = Number.isFinite(durationMs) && target >= durationMs - END_MARGIN_MS;
  // A device alone plays its last moments at the normal rate: engine.js starts the next
  // entry (gapless) by this element's remaining time. A party's members start it on the
  // server's stamp instead (startWhenDue), and keep correcting.
  const alone = !Array.isArray(state.members);
  const audioNearEnd = Number.isFinite(durationMs) && audio.currentTime * 1000 >= durationMs - END_MARGIN_MS;
  if ((again || Math.abs(err) > SEEK_ABOVE_MS) && !nearEnd) {
    setRate(audio, 1);
    seekTo(audio, target + stats.latencyMs, again ? "again" : "seek");
  } else if (Math.abs(err) < DEAD_BAND_MS || learning || (alone && (nearEnd || audioNearEnd))) {
    setRate(audio, 1);
  } else {
    const change = Math.max(-MAX_RATE_CHANGE, Math.min(MAX_RATE_CHANGE, err * RATE_GAIN));
    setRate(audio, 1 - change);
  }
  return err;
}

/**
 * Start the paused element for `state` (playing) at the right moment: now, from the
 * target plus the start-up latency, or, for a start stamped in the future, by a timer
 * that calls `again` (the engine's sync) when it is due.
 */
export function startWhenDue(audio, state, play, again) {
  const lead = startsIn(state) - stats.latencyMs; // ms until play() is due
  if (lead > 2) {
    const key = `${state.position_at}:${state.position_ms}`;
    if (startFor !== key) {
      clearTimeout(startTimer);
      startFor = key;
      startTimer = setTimeout(() => {
        startFor = null;
        again();
      }, lead);
    }
    const hold = state.position_ms || 0;
    if (audio.readyState >= 1 && Math.abs(audio.currentTime * 1000 - hold) > 1) place(audio, hold / 1000);
    return;
  }
  clearTimeout(startTimer);
  startFor = null;
  // Not loaded yet: the engine calls again on loadedmetadata, when the position can be set.
  if (audio.readyState < 1) return;
  // Due (or past): from where the timeline will be once the audio moves. But a device
  // playing on its own (not a party, whose members keep together) plays a track's
  // beginning rather than skip it when it is only a little late; the rate catches up.
  const late = Math.max(0, -lead);
  const alone = !Array.isArray(state.members);
  const keepBeginning = alone && (state.position_ms || 0) === 0 && late < SEEK_ABOVE_MS;
  const from = keepBeginning ? 0 : (state.position_ms || 0) + late;
  if (Math.abs(audio.currentTime * 1000 - from) > DEAD_BAND_MS) place(audio, from / 1000);
  // What a timed start leaves behind is start-up latency to learn; a kept beginning is not.
  learning = keepBeginning ? null : { kind: "start", since: null, began: performance.now() };
  setRate(audio, 1);
  play();
}

/** The track is over by the audio itself (or, the audio stuck, well past by the timeline). */
export function ended(audio, state) {
  const durationMs = audio.duration * 1000;
  if (!Number.isFinite(durationMs) || audio.readyState < 1) return false;
  const target = targetPosition(state);
  // An ended element whose timeline starts the track again (repeat one) is not over.
  if (audio.ended) return target >= durationMs / 2;
  return target > durationMs + STATE_ENDED_MS;
}

/**
 * Where this element's audio is, for a hand-off or a party start: {position_ms,
 * position_at} (the server time of the reading), or {} when nothing is loaded.
 */
export function positionReport(audio) {
  if (!audio.getAttribute("src") || audio.readyState < 1) return {};
  return { position_ms: Math.round(audio.currentTime * 1000), position_at: Math.round(serverNow()) };
}
