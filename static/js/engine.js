// The audio engine: this page's audio follows the audio source's state (this device's
// player, or the party). The server's state is the truth: buttons send actions, and this
// module makes the audio match it: the source is the stream of queue[index], the position
// and start time (sync.js: continuous correction), playing or paused, and the volume
// (levelled by ReplayGain).
//
// Sections below, each with one job:
// - elements: two <audio> elements; the active one has id "audio", the other preloads
//   the next entry (gapless: it starts just before the active one ends);
// - own vs outside changes: play/pause/seek this module did not ask for (media keys, a
//   headset, the browser's media controls, an unplugged headset) become the same action
//   on the tracker, and the engine never forces "playing" back over them;
// - drift correction and end of track (sync.js keeps the element on the timeline);
// - unplayable tracks: any failure is told once and the queue advances once;
// - volume and ReplayGain.

import { session, audioSourceId, act, onChange, onOutputChange } from "./session.js";
import { correct, startsIn, ended as timelineEnded, startWhenDue } from "./sync.js";
import * as trackers from "./trackers.js";
import { known, streamQuality, streamUrl, track as loadTrack } from "./tracks.js";
import { toast } from "./ui.js";

const PRELOAD_S = 15; // the next entry is loaded this long before the active one ends
const POLL_S = 0.4; // closer than this to the end, the switch is polled every few ms
const LEAD_MARGIN_S = 0.01; // the next entry starts this much before the end, plus its start latency
const unlock = document.getElementById("audio-unlock");

// -- elements -----------------------------------------------------------------------------

const first = document.getElementById("audio");
const second = document.createElement("audio");
second.id = "audio-next";
second.preload = "auto";
first.after(second);
export const elements = [first, second];
/** The element that plays the current entry (id "audio"). */
export let audio = first;
const other = () => (audio === first ? second : first);

// Per element: the entry it holds ({trackId, playId, key}), whether we last asked it to
// play or pause (a play or pause event against that came from outside), and a seek we made.
for (const el of elements) {
  el.entry = null;
  el.want = "pause";
  el.ourSeek = false;
}

let followed = null; // tracker id whose state we play
let stopFollowing = null;
let stopVolume = null;

const entryListeners = new Set();
/** `fn(el, entry)` whenever an element starts holding a new play of an entry. */
export function onEntry(fn) {
  entryListeners.add(fn);
  return () => entryListeners.delete(fn);
}

/** A play's id: a UUID (recorded once by the server). */
export function newPlayId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Load track `trackId` into `el` as a new play (`key` names the queue entry). */
function load(el, trackId, key) {
  ourPause(el);
  const quality = streamQuality();
  el.entry = { trackId, key, quality, playId: newPlayId() };
  el.src = streamUrl(trackId, quality);
  applyVolume(el);
  for (const fn of entryListeners) fn(el, el.entry);
}

/** The device's quality changed under a loaded entry: the same play (no new play id)
 * continues from the new stream; sync() then places it on the state's timeline. */
function restream(el) {
  ourPause(el);
  el.entry.quality = streamQuality();
  el.src = streamUrl(el.entry.trackId, el.entry.quality);
  applyVolume(el);
}

function unload(el) {
  if (!el.getAttribute("src")) return;
  ourPause(el);
  el.entry = null;
  el.removeAttribute("src");
  el.load();
}

function ourPlay(el) {
  el.want = "play";
  return el.play().then(
    () => {
      if (el === audio) unlock.hidden = true;
    },
    (err) => {
      // Autoplay blocked until the user touches the page.
      if (err.name === "NotAllowedError" && el === audio) unlock.hidden = false;
    },
  );
}

function ourPause(el) {
  el.want = "pause";
  if (!el.paused) el.pause();
}

function ourSeek(el, seconds) {
  el.ourSeek = true;
  el.currentTime = seconds;
}

// sync.js moves the active element too (corrections, timed starts): its seeks are ours.
for (const el of elements) {
  el.placeAt = (seconds) => ourSeek(el, seconds);
}

/** Make `el` the active element (it takes the id "audio"). */
function activate(el) {
  if (el === audio) return;
  const previous = audio;
  previous.id = "audio-next";
  el.id = "audio";
  audio = el;
  document.dispatchEvent(new CustomEvent("audio-switched", { detail: { from: previous, to: el } }));
}

// -- the state we follow ------------------------------------------------------------------

function sourceEntry() {
  return followed ? trackers.get(followed) : null;
}

const entryKey = (entry) => `${entry.id}:${entry.state.index}:${entry.state.queue[entry.state.index]}`;

/** The queue index that follows the current one when it ends (as the server's track_ended), or null. */
function nextIndex(state) {
  if (state.repeat === "one") return state.index;
  const order = state.order?.length === state.queue.length ? state.order : state.queue.map((_, i) => i);
  const step = order.indexOf(state.index) + 1;
  if (step < order.length) return order[step];
  return state.repeat === "all" ? order[0] : null;
}

// After the active element ended with the next one already playing, the tracker is told
// (player.track.ended); until its state moves on, the engine keeps the switch as it is.
let switched = null; // {tracker, version}: the state version the switch happened at

// After an outside pause, the engine does not play again until the tracker's state moves
// on (our pause action applied, or anyone acted).
let outsideHold = null; // {tracker, version}

/** Make the audio match the state. Called on every change and twice a second. */
export function sync() {
  if (!session.ownsOutput) {
    // Another tab of this browser plays this device's audio; this one is a remote.
    for (const el of elements) ourPause(el);
    return;
  }
  // The source's state is still loading (a party just joined or started): keep playing
  // what plays until it arrives, rather than stop and reload the same track.
  if (followed && !trackers.get(followed)?.state) return;
  const entry = sourceEntry();
  const state = entry?.state;
  if (!state || state.index === null || state.index === undefined || !state.queue?.length) {
    switched = null;
    for (const el of elements) {
      ourPause(el);
      unload(el);
    }
    return;
  }
  if (switched && (switched.tracker !== entry.id || switched.version !== entry.version)) switched = null;
  if (outsideHold && (outsideHold.tracker !== entry.id || outsideHold.version !== entry.version)) outsideHold = null;
  if (switched) return; // the next entry plays already; the tracker catches up
  const key = entryKey(entry);
  const trackId = state.queue[state.index];
  // The same track at another index (an entry removed before it) keeps playing; a new
  // entry, or the same track again after it ended, is a new play.
  if (audio.entry?.trackId === trackId && !(audio.ended && audio.entry.key !== key)) {
    audio.entry.key = key;
    if (audio.entry.quality !== streamQuality()) restream(audio);
  } else {
    const preloaded = other();
    if (preloaded.entry?.key === key && preloaded.entry.quality === streamQuality() && !preloaded.error && !preloaded.ended) {
      // The preloaded entry became current some other way (next pressed, or a party's
      // next track stamped to start ahead): use it. The outgoing track plays on until the
      // stamped start if that comes later than the state (a party member a little behind
      // the one whose end moved the party on): nothing of its end is cut.
      const outgoing = audio;
      activate(preloaded);
      const lead = startsIn(state);
      if (lead > 0 && !outgoing.paused && !outgoing.ended) playOut(outgoing, lead);
      else ourPause(outgoing);
    } else {
      load(audio, trackId, key);
    }
  }
  if (audio.readyState >= 1 && !audio.seeking) correctDrift(entry);
  if (state.playing && !outsideHold) {
    if (audio.paused && !audio.ended) startWhenDue(audio, state, () => ourPlay(audio), sync);
  } else {
    ourPause(audio);
  }
  preloadNext(entry);
}

// -- drift correction and end of track -------------------------------------------------------

/** Keep the active element on the state's timeline (sync.js: the rate for small errors, a
 * seek allowing for the start-up latency for large ones). The end of a track is the
 * audio's own `ended` (onEnded); only an element stuck while the timeline is well past
 * the end is declared over from here. */
function correctDrift(entry) {
  const state = entry.state;
  if (timelineEnded(audio, state)) {
    if (state.playing && !audio.ended) reportEnded(entry);
    return;
  }
  correct(audio, state);
}

/** The active element ended (its own `ended`: nothing is cut): tell the tracker, once. */
function onEnded(event) {
  if (event.target !== audio) return;
  const entry = sourceEntry();
  if (!entry?.state?.playing) return;
  const next = other();
  if (next.entry && !next.paused && next.entry.key === `${entry.id}:${nextIndex(entry.state)}:${entry.state.queue[nextIndex(entry.state)]}`) {
    activate(next);
    switched = { tracker: entry.id, version: entry.version };
  }
  reportEnded(entry);
}

let endedReported = null; // `${tracker}:${version}` already reported

function reportEnded(entry) {
  const key = `${entry.id}:${entry.version}`;
  if (endedReported === key) return;
  endedReported = key;
  act("player.track.ended", {}, entry.id, { expected_version: entry.version }).catch(() => {
    // conflict: someone else (another listener, the server) advanced it already.
  });
}

// -- gapless: preload the next entry, start it just before the active one ends -------------

let switchTimer = null;

// An outgoing element left to play out its last ms until a stamped start (sync).
let playingOut = null;

function playOut(el, ms) {
  playingOut = el;
  setTimeout(() => {
    if (playingOut !== el) return;
    playingOut = null;
    if (el !== audio) ourPause(el);
  }, ms);
}

function preloadNext(entry) {
  const state = entry.state;
  const next = other();
  if (next === playingOut) return; // not yet: it plays out its track
  const index = state.playing ? nextIndex(state) : null;
  const remaining = audio.duration - audio.currentTime;
  if (index === null || !Number.isFinite(remaining) || remaining > PRELOAD_S) {
    if (next.entry && !next.paused) ourPause(next);
    return;
  }
  const key = `${entry.id}:${index}:${state.queue[index]}`;
  if (next.entry?.key !== key || next.entry.quality !== streamQuality() || next.ended) load(next, state.queue[index], key);
  scheduleSwitch();
}

function scheduleSwitch() {
  if (switchTimer) return;
  const remaining = audio.duration - audio.currentTime;
  const wait = Math.max(0, remaining - POLL_S) * 1000;
  switchTimer = setTimeout(pollSwitch, wait);
}

// The time from play() on a loaded, paused element to its audio starting: the next entry
// is started that much (and LEAD_MARGIN_S) before the active one ends. A fixed figure:
// measured in Chromium here (300 ms after play(), the position against the wall clock) it
// was 78-114 ms, and it varied as much from one start to the next, so a latency learnt from
// earlier starts predicted the next no better (gapless switches 58 ms early to 45 ms late,
// against -29 to +40 ms with this figure).
const START_LATENCY_S = 0.1;

/** Close to the end: poll every few ms and start the next element just before the end. */
function pollSwitch() {
  switchTimer = null;
  const entry = sourceEntry();
  const next = other();
  if (!entry?.state?.playing || outsideHold || switched || audio.paused || !next.entry) return;
  // A party's members start the next track together at a time the server stamps ahead
  // (sync.js): they switch on the tracker's word, not on their own.
  if (Array.isArray(entry.state.members)) return;
  // In real time: the element may still play at a corrected rate (sync.js).
  const remaining = (audio.duration - audio.currentTime) / (audio.playbackRate || 1);
  if (!Number.isFinite(remaining)) return;
  if (remaining > START_LATENCY_S + LEAD_MARGIN_S) {
    switchTimer = setTimeout(pollSwitch, remaining > POLL_S ? (remaining - POLL_S) * 1000 : 2);
    return;
  }
  if (next.paused && next.readyState >= 2 && !next.error) {
    if (next.currentTime !== 0) ourSeek(next, 0);
    ourPlay(next);
  }
}

// -- own vs outside changes ------------------------------------------------------------------

/** An action on the tracker this page plays, for a change made outside the page. */
function outside(name, payload = {}) {
  const entry = sourceEntry();
  if (!entry) return;
  act(name, payload, entry.id).catch(() => {});
}

function onPause(event) {
  const el = event.target;
  if (el.want === "pause") return;
  if (el !== audio || el.ended || el.error || !el.getAttribute("src")) return;
  el.want = "pause";
  const entry = sourceEntry();
  if (!entry?.state?.playing) return;
  outsideHold = { tracker: entry.id, version: entry.version };
  outside("player.playback.pause");
}

function onPlay(event) {
  const el = event.target;
  if (el.want === "play") return;
  el.want = "play";
  if (el !== audio) {
    ourPause(el);
    return;
  }
  const entry = sourceEntry();
  outsideHold = null;
  if (entry?.state && !entry.state.playing) outside("player.playback.play", { position_ms: Math.round(el.currentTime * 1000) });
}

function onSeeked(event) {
  const el = event.target;
  if (el.ourSeek) {
    el.ourSeek = false;
    return;
  }
  if (el !== audio || !sourceEntry()?.state) return;
  outside("player.playback.seek", { position_ms: Math.round(el.currentTime * 1000) });
}

// -- unplayable tracks: told once, the queue advances once ------------------------------------

const RETRIES = 3;
let failures = 0;
let failedKey = null;
const skipped = new Set(); // `${tracker}:${version}` already skipped

/** Whether the stream answers at all: "gone" (404/410), "ok" (the file is there: cannot decode) or "down". */
async function probe(url) {
  try {
    const response = await fetch(url, { headers: { Range: "bytes=0-0" }, cache: "no-store" });
    response.body?.cancel().catch(() => {});
    if (response.status === 404 || response.status === 410) return "gone";
    return response.ok ? "ok" : "down";
  } catch {
    return "down";
  }
}

async function onError(event) {
  const el = event.target;
  if (!el.getAttribute("src") || !el.entry) return;
  if (el !== audio) {
    unload(el); // a preload failed: the entry fails again, and is skipped, when it is current
    return;
  }
  const entry = sourceEntry();
  if (!entry?.state) return;
  const failedEntry = el.entry;
  const version = entry.version;
  const code = el.error?.code;
  if (code === MediaError.MEDIA_ERR_ABORTED) return;
  const status = await probe(el.currentSrc || el.src);
  if (el.entry !== failedEntry) return; // moved on meanwhile
  // Gone (404/410), or there but not decodable: skipped at once. A network failure is
  // retried, even when the server answers again by now.
  if (status === "down" || (status === "ok" && code === MediaError.MEDIA_ERR_NETWORK)) {
    // The server restarting, a network drop: retried a few times, a few seconds apart.
    if (failedKey !== failedEntry.key) {
      failedKey = failedEntry.key;
      failures = 0;
    }
    failures += 1;
    if (failures <= RETRIES) {
      setTimeout(() => {
        if (el.error && el === audio && el.entry === failedEntry) {
          el.entry = null; // makes sync() load it again, then seek to the live position
          sync();
        }
      }, 2000 * failures);
      return;
    }
  }
  skip(entry.id, version, failedEntry.trackId);
}

function skip(trackerId, version, trackId) {
  const key = `${trackerId}:${version}`;
  if (skipped.has(key)) return;
  skipped.add(key);
  const title = known(trackId)?.title;
  Promise.resolve(title || loadTrack(trackId).then((t) => t?.title)).then((name) =>
    toast(`Skipped ${name || `track ${trackId}`}: cannot be played`, "error"),
  );
  act("player.playback.next", {}, trackerId, { expected_version: version }).catch(() => {
    // conflict: another listener skipped it already (or the queue changed).
  });
}

// -- volume and ReplayGain ----------------------------------------------------------------------

let replayGainMode = "track"; // the user's setting: off, track or album

export function setReplayGainMode(mode) {
  replayGainMode = mode;
  for (const el of elements) applyVolume(el);
}

/** The volume factor of a track's ReplayGain (track or album gain, limited by the peak); 1 without tags. */
export function replayGainFactor(track, mode = replayGainMode) {
  const rg = track?.replaygain;
  if (!rg || mode === "off") return 1;
  const gain = mode === "album" ? rg.album_gain ?? rg.track_gain : rg.track_gain ?? rg.album_gain;
  const peak = mode === "album" ? rg.album_peak ?? rg.track_peak : rg.track_peak ?? rg.album_peak;
  if (typeof gain !== "number") return 1;
  let factor = 10 ** (gain / 20);
  if (typeof peak === "number" && peak > 0) factor = Math.min(factor, 1 / peak); // never clip
  return factor;
}

function applyVolume(el = audio) {
  const own = trackers.get(session.deviceId)?.state;
  const volume = own && typeof own.volume === "number" ? own.volume / 100 : 1;
  const trackId = el.entry?.trackId;
  const track = trackId ? known(trackId) : null;
  if (trackId && !track) loadTrack(trackId).then(() => el.entry?.trackId === trackId && applyVolume(el));
  // An element's volume cannot exceed 1: positive gains are applied up to full volume.
  el.volume = Math.max(0, Math.min(1, volume * replayGainFactor(track)));
}

// -- wiring -----------------------------------------------------------------------------------------

function follow() {
  const id = audioSourceId();
  if (id !== followed) {
    stopFollowing?.();
    followed = id;
    switched = null;
    outsideHold = null;
    stopFollowing = id ? trackers.watch(id, () => sync()) : null;
    sync();
  }
  stopVolume?.();
  stopVolume = session.deviceId ? trackers.watch(session.deviceId, () => elements.forEach((el) => applyVolume(el))) : null;
}

export function start() {
  onChange(follow);
  onOutputChange(sync);
  follow();
  for (const el of elements) {
    el.addEventListener("ended", onEnded);
    el.addEventListener("loadedmetadata", sync);
    el.addEventListener("canplay", sync);
    el.addEventListener("playing", () => el === audio && (failures = 0));
    el.addEventListener("error", onError);
    el.addEventListener("pause", onPause);
    el.addEventListener("play", onPlay);
    el.addEventListener("seeked", onSeeked);
  }
  setInterval(sync, 250); // sync.js corrects drift by rate on each tick
  document.getElementById("audio-unlock-btn").addEventListener("click", () => {
    unlock.hidden = true;
    ourPlay(audio);
    sync();
  });
}
