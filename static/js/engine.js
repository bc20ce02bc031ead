// The <audio> element follows the audio source's state (this device's player, or the
// party). The server's state is the truth: buttons send actions, and this module only
// makes the element match: source = stream of queue[index], position and start time
// (sync.js: continuous correction), playing or paused, volume. When the audio itself
// ends the track it reports player.track.ended (with expected_version, so several
// listeners of one party advance it once).

import { session, audioSourceId, act, onChange } from "./session.js";
import * as trackers from "./trackers.js";
import { streamUrl } from "./tracks.js";
import { correct, ended, startWhenDue } from "./sync.js";

const audio = document.getElementById("audio");
const unlock = document.getElementById("audio-unlock");
let followed = null; // tracker id whose state we play
let stopFollowing = null;
let stopVolume = null;
let currentTrack = null;
let endedReported = null; // `${tracker}:${version}` already reported

function sourceState() {
  return followed ? trackers.get(followed)?.state : null;
}

/** Make the element match the state. Called on every change and twice a second. */
export function sync() {
  // The source's state is still loading (a party just joined or started): keep playing
  // what plays until it arrives, rather than stop and reload the same track.
  if (followed && !sourceState()) return;
  const state = sourceState();
  if (!state || state.index === null || state.index === undefined || !state.queue?.length) {
    if (!audio.paused) audio.pause();
    if (currentTrack !== null) {
      currentTrack = null;
      audio.removeAttribute("src");
      audio.load();
    }
    return;
  }
  const trackId = state.queue[state.index];
  if (trackId !== currentTrack) {
    currentTrack = trackId;
    audio.src = streamUrl(trackId);
  }
  // -- sync: the end is the audio's own; position and start time by sync.js --
  const atEnd = ended(audio, state);
  if (audio.readyState >= 1 && !audio.seeking) {
    if (atEnd) {
      if (state.playing) reportEnded();
    } else {
      correct(audio, state);
    }
  }
  if (state.playing && !atEnd) {
    if (audio.paused) startWhenDue(audio, state, play, sync);
    // -- end sync --
  } else if (!audio.paused) {
    audio.pause();
  }
}

function play() {
  audio.play().then(
    () => (unlock.hidden = true),
    (err) => {
      // Autoplay blocked until the user touches the page.
      if (err.name === "NotAllowedError") unlock.hidden = false;
    },
  );
}

function reportEnded() {
  const entry = trackers.get(followed);
  if (!entry?.state?.playing) return;
  const key = `${entry.id}:${entry.version}`;
  if (endedReported === key) return;
  endedReported = key;
  act("player.track.ended", {}, entry.id, { expected_version: entry.version }).catch(() => {
    // conflict: someone else (another listener, the server) advanced it already.
  });
}

function applyVolume() {
  const own = trackers.get(session.deviceId)?.state;
  if (own && typeof own.volume === "number") audio.volume = Math.max(0, Math.min(1, own.volume / 100));
}

function follow() {
  const id = audioSourceId();
  if (id !== followed) {
    stopFollowing?.();
    followed = id;
    stopFollowing = id ? trackers.watch(id, () => sync()) : null;
    sync();
  }
  stopVolume?.();
  stopVolume = session.deviceId ? trackers.watch(session.deviceId, applyVolume) : null;
}

// A failed load (the server restarting, a network drop) is retried a few times, a few
// seconds apart; then the user is told.
let failures = 0;
let failedTrack = null;
function onError() {
  if (!audio.getAttribute("src")) return;
  if (failedTrack !== currentTrack) {
    failedTrack = currentTrack;
    failures = 0;
  }
  failures += 1;
  if (failures > 3) {
    document.dispatchEvent(new CustomEvent("audio-error", { detail: currentTrack }));
    return;
  }
  setTimeout(() => {
    if (audio.error && failedTrack === currentTrack) {
      currentTrack = null; // makes sync() set the source again, then seek to the live position
      sync();
    }
  }, 2000 * failures);
}

export function start() {
  onChange(follow);
  follow();
  audio.addEventListener("ended", reportEnded);
  audio.addEventListener("loadedmetadata", sync);
  audio.addEventListener("canplay", sync);
  audio.addEventListener("playing", () => (failures = 0));
  audio.addEventListener("error", onError);
  setInterval(sync, 250); // sync.js corrects drift by rate on each tick
  document.getElementById("audio-unlock-btn").addEventListener("click", () => {
    unlock.hidden = true;
    audio.play().catch(() => {});
    sync();
  });
}

export { audio };
