// The player bar: shows the target tracker (this device, the party, or a remote device)
// and sends its actions there. Keyboard: space = play/pause, left/right = seek 10 s,
// up/down = volume, shift+left/right = previous/next.

import { bus } from "./bus.js";
import { livePosition } from "./clock.js";
import { session, targetId, act, onChange, setRemote } from "./session.js";
import * as trackers from "./trackers.js";
import { track as loadTrack, known } from "./tracks.js";
import { showLyrics } from "./trackmenu.js";
import { clear, cover, fail, fmtTime, h } from "./ui.js";

const $ = (id) => document.getElementById(id);
const el = {
  cover: $("pb-cover"), title: $("pb-title"), artist: $("pb-artist"), target: $("pb-target"),
  play: $("pb-play"), prev: $("pb-prev"), next: $("pb-next"), shuffle: $("pb-shuffle"), repeat: $("pb-repeat"),
  seek: $("pb-seek"), pos: $("pb-pos"), dur: $("pb-dur"), volume: $("pb-volume"), bar: $("playerbar"),
};
// The playing track's rows, wherever a view shows them: one rule in a constructed style sheet
// (the page's Content-Security-Policy allows no inline <style> elements).
const nowStyle = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, nowStyle];
const REPEAT_NEXT = { off: "all", all: "one", one: "off" };
let watched = null;
let stopWatch = null;
let shownTrack = undefined;
let seeking = false; // the user is dragging the seek bar
let volumeDragging = false;

const state = () => (watched ? trackers.get(watched)?.state : null);
const currentTrackId = (s) => (s && s.index !== null && s.index !== undefined ? s.queue[s.index] : null);

/** The volume control acts on a device player: the remote one, else this device. */
function volumeTracker() {
  const entry = trackers.get(targetId());
  return entry?.kind === "player" ? entry.id : session.deviceId;
}

function render() {
  const s = state();
  const trackId = currentTrackId(s);
  el.bar.classList.toggle("idle", trackId === null);
  el.play.querySelector("use").setAttribute("href", s?.playing ? "#i-pause" : "#i-play");
  el.play.setAttribute("aria-label", s?.playing ? "Pause" : "Play");
  el.bar.dataset.playing = s?.playing ? "true" : "false";
  el.shuffle.setAttribute("aria-pressed", s?.shuffle ? "true" : "false");
  el.repeat.dataset.repeat = s?.repeat || "off";
  el.repeat.setAttribute("aria-pressed", s && s.repeat !== "off" ? "true" : "false");
  el.repeat.title = `Repeat: ${s?.repeat || "off"}`;
  const vol = trackers.get(volumeTracker())?.state?.volume;
  if (!volumeDragging && typeof vol === "number") el.volume.value = vol;
  renderTarget();
  if (trackId !== shownTrack) {
    shownTrack = trackId;
    showTrack(trackId);
    // Highlight the playing track wherever it is listed, whenever a view renders it.
    nowStyle.replaceSync(trackId === null ? "" : `.track-row[data-track="${Number(trackId)}"] .tr-title { color: var(--accent); font-weight: 600; }`);
  }
  tick();
}

function renderTarget() {
  const id = targetId();
  const entry = trackers.get(id);
  let label = null;
  if (session.remoteId && entry) label = h("span", "Controlling ", h("strong", entry.state?.device || "another device"), " ", h("button.link-btn", { onclick: () => setRemote(null), title: "Back to this device" }, "✕"));
  else if (session.partyId && id === session.partyId) label = h("span", "Listening party: ", h("strong", entry?.state?.name || "Party"));
  else if (entry?.state?.transferred_to) {
    const to = deviceName(entry.state.transferred_to);
    label = h("span", "Handed off", to ? ` to ${to}` : "");
  }
  el.target.hidden = !label;
  if (label) clear(el.target, label);
}

const names = new Map(); // tracker id -> device name (or a pending promise)

/** The name of another device, looked up once. */
function deviceName(id) {
  const followed = trackers.get(id)?.state?.device;
  if (followed) return followed;
  const name = names.get(id);
  if (typeof name === "string") return name;
  if (!name) {
    names.set(id, bus.request("tracker.state.get", { tracker: id }).then(
      (r) => (names.set(id, r.state?.device || ""), renderTarget()),
      () => names.set(id, ""),
    ));
  }
  return null;
}

async function showTrack(trackId) {
  if (trackId === null) {
    el.title.textContent = "Nothing playing";
    el.artist.textContent = "";
    clear(el.cover, cover(null, { size: 96 }));
    document.title = "Music";
    return;
  }
  let t = known(trackId);
  if (!t) {
    el.title.textContent = "…";
    t = await loadTrack(trackId);
    if (shownTrack !== trackId) return;
  }
  el.title.textContent = t?.title || `Track ${trackId}`;
  clear(el.artist);
  if (t?.album) el.artist.append(h("a", { href: `#/album/${t.album.id}` }, t.artist || t.album_artist?.name || ""), " · ", h("a.muted", { href: `#/album/${t.album.id}` }, t.album.title));
  clear(el.cover, cover(t?.album?.id, { size: 56, hasCover: t?.cover != null, coverId: t?.cover, label: t?.album?.title }));
  document.title = `${t?.title || "Music"} · Music`;
}

/** Position display, several times a second. */
function tick() {
  const s = state();
  const trackId = currentTrackId(s);
  const duration = (trackId !== null && known(trackId)?.duration_ms) || 0;
  let position = s ? livePosition(s) : 0;
  if (duration) position = Math.min(position, duration);
  el.pos.textContent = fmtTime(position);
  el.dur.textContent = fmtTime(duration);
  if (!seeking) {
    el.seek.max = Math.max(1, Math.round(duration / 1000));
    el.seek.value = Math.round(position / 1000);
  }
  el.seek.disabled = trackId === null;
}

function follow() {
  const id = targetId();
  if (id === watched) return render();
  stopWatch?.();
  watched = id;
  stopWatch = id ? trackers.watch(id, render) : null;
  shownTrack = undefined;
  render();
}

// -- actions ----------------------------------------------------------------------------------

export function togglePlay() {
  const s = state();
  if (!s || currentTrackId(s) === null) return;
  act(s.playing ? "player.playback.pause" : "player.playback.play").catch(fail);
}

export function seekBy(ms) {
  const s = state();
  if (!s || currentTrackId(s) === null) return;
  const duration = known(currentTrackId(s))?.duration_ms || Infinity;
  const to = Math.max(0, Math.min(duration - 500, livePosition(s) + ms));
  act("player.playback.seek", { position_ms: Math.round(to) }).catch(fail);
}

export function volumeBy(step) {
  const vol = trackers.get(volumeTracker())?.state?.volume ?? 100;
  act("player.volume.set", { volume: Math.max(0, Math.min(100, vol + step)) }, volumeTracker()).catch(fail);
}

let spaceTaken = false;
let clickedControl = null; // the control the pointer last pressed (it keeps focus, but was not reached by keyboard)

function onKey(e) {
  const tag = e.target?.tagName;
  if (e.ctrlKey || e.metaKey || e.altKey || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.target?.isContentEditable) return;
  if (e.key === " " || e.code === "Space") {
    // A control reached by the keyboard (focus-visible) takes Space; one last clicked with the
    // mouse keeps focus but must not be pressed again: Space is play/pause then.
    const control = e.target?.closest?.("button, a, [role=button], summary");
    if (control && (control !== clickedControl || control.closest("dialog, .pl-menu"))) return;
    e.preventDefault();
    spaceTaken = true; // its keyup would still press the button: see start()
    togglePlay();
    return;
  }
  // The arrows scroll the page, unless the player has focus.
  if (!e.target?.closest?.("#playerbar")) return;
  if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    e.preventDefault();
    const forward = e.key === "ArrowRight";
    if (e.shiftKey) act(forward ? "player.playback.next" : "player.playback.previous").catch(fail);
    else seekBy(forward ? 10000 : -10000);
  } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
    e.preventDefault();
    volumeBy(e.key === "ArrowUp" ? 5 : -5);
  }
}

export function start() {
  el.play.addEventListener("click", togglePlay);
  document.getElementById("pb-lyrics")?.addEventListener("click", () => {
    const id = currentTrackId(state());
    if (id !== null) showLyrics(id).catch(fail);
  });
  el.prev.addEventListener("click", () => act("player.playback.previous").catch(fail));
  el.next.addEventListener("click", () => act("player.playback.next").catch(fail));
  el.shuffle.addEventListener("click", () => act("player.mode.set", { shuffle: !state()?.shuffle }).catch(fail));
  el.repeat.addEventListener("click", () => act("player.mode.set", { repeat: REPEAT_NEXT[state()?.repeat || "off"] }).catch(fail));
  el.seek.addEventListener("input", () => {
    seeking = true;
    el.pos.textContent = fmtTime(el.seek.value * 1000);
  });
  el.seek.addEventListener("change", () => {
    seeking = false;
    act("player.playback.seek", { position_ms: Number(el.seek.value) * 1000 }).catch(fail);
  });
  el.volume.addEventListener("input", () => (volumeDragging = true));
  el.volume.addEventListener("change", () => {
    volumeDragging = false;
    act("player.volume.set", { volume: Number(el.volume.value) }, volumeTracker()).catch(fail);
  });
  document.addEventListener("pointerdown", (e) => (clickedControl = e.target?.closest?.("button, a, [role=button], summary") || null), true);
  document.addEventListener("keydown", (e) => e.key === "Tab" && (clickedControl = null), true);
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", (e) => {
    if ((e.key === " " || e.code === "Space") && spaceTaken) {
      spaceTaken = false;
      e.preventDefault();
    }
  });
  onChange(follow);
  // The volume shown may belong to this device while the bar shows a party.
  let ownId = null;
  let stopOwn = null;
  onChange(() => {
    if (session.deviceId === ownId) return;
    stopOwn?.();
    ownId = session.deviceId;
    stopOwn = ownId ? trackers.watch(ownId, render) : null;
  });
  follow();
  setInterval(tick, 250);
}
