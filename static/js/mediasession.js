// The Media Session: what the operating system shows (lock screen, notification, the
// browser's media controls) for the track this page plays, and its buttons (media keys,
// headsets) as actions on the tracker this page plays (this device, or the party), so
// every device sees them.

import { livePosition } from "./clock.js";
import { audio, elements } from "./engine.js";
import { act, audioSourceId, onChange } from "./session.js";
import * as trackers from "./trackers.js";
import { known, track as loadTrack } from "./tracks.js";

const SEEK_STEP_S = 10;
const ARTWORK_SIZES = [96, 256, 512];
const media = navigator.mediaSession;
let watched = null;
let stopWatch = null;
let shownTrack = null;

const state = () => (watched ? trackers.get(watched)?.state : null);
const currentTrack = (s) => (s && s.index !== null && s.index !== undefined ? s.queue[s.index] : null);

function send(name, payload = {}) {
  const id = audioSourceId();
  if (id) act(name, payload, id).catch(() => {});
}

function seekTo(seconds) {
  const s = state();
  const track = known(currentTrack(s));
  let ms = Math.max(0, Math.round(seconds * 1000));
  if (track?.duration_ms) ms = Math.min(ms, track.duration_ms);
  send("player.playback.seek", { position_ms: ms });
}

const HANDLERS = {
  play: () => send("player.playback.play"),
  pause: () => send("player.playback.pause"),
  stop: () => send("player.playback.stop"),
  nexttrack: () => send("player.playback.next"),
  previoustrack: () => send("player.playback.previous"),
  seekto: (details) => seekTo(details.seekTime),
  seekbackward: (details) => seekTo(livePosition(state()) / 1000 - (details.seekOffset || SEEK_STEP_S)),
  seekforward: (details) => seekTo(livePosition(state()) / 1000 + (details.seekOffset || SEEK_STEP_S)),
};

/** Artwork at several sizes from the album's cover endpoint. */
export function artwork(albumId) {
  return ARTWORK_SIZES.map((size) => ({ src: `/api/v1/albums/${albumId}/cover?size=${size}`, sizes: `${size}x${size}` }));
}

async function showMetadata(trackId) {
  if (trackId === null) {
    media.metadata = null;
    return;
  }
  const t = known(trackId) || (await loadTrack(trackId));
  if (shownTrack !== trackId) return;
  media.metadata = new MediaMetadata({
    title: t?.title || `Track ${trackId}`,
    artist: t?.artist || t?.album_artist?.name || "",
    album: t?.album?.title || "",
    artwork: t?.album && t.cover != null ? artwork(t.album.id) : [],
  });
}

/** Position and duration as the tracker has them (the operating system's seek bar). */
function updatePosition() {
  const s = state();
  const t = known(currentTrack(s));
  const duration = t?.duration_ms ? t.duration_ms / 1000 : audio.duration;
  if (!Number.isFinite(duration) || duration <= 0) return;
  const position = Math.min(duration, Math.max(0, livePosition(s) / 1000));
  try {
    media.setPositionState({ duration, playbackRate: 1, position });
  } catch {
    // duration not known yet
  }
}

function render() {
  const s = state();
  const trackId = currentTrack(s);
  media.playbackState = trackId === null ? "none" : s.playing ? "playing" : "paused";
  if (trackId !== shownTrack) {
    shownTrack = trackId;
    showMetadata(trackId);
  }
  updatePosition();
}

function follow() {
  const id = audioSourceId();
  if (id === watched) return;
  stopWatch?.();
  watched = id;
  stopWatch = id ? trackers.watch(id, render) : null;
  render();
}

export function start() {
  if (!media) return;
  for (const [action, handler] of Object.entries(HANDLERS)) {
    try {
      media.setActionHandler(action, handler);
    } catch {
      // an action this browser does not know
    }
  }
  onChange(follow);
  follow();
  for (const el of elements) el.addEventListener("durationchange", updatePosition);
}
