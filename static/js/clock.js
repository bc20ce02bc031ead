// Server time. Player states carry `position_at`, a server epoch-ms stamp, so the live
// position needs the server's clock. Every reply and event carries the server's `time`
// (docs/protocol.md), which bounds offset = server clock - this clock from both sides:
// - a reply's stamp was made after we sent the request and before we received the
//   reply: stamp - received <= offset <= stamp - sent;
// - an event's stamp was made before we received it: offset >= stamp - received.
// As NTP does, the reply with the shortest round trip gives the estimate (the middle of
// its interval: its error is at most half its round trip), kept inside the bounds of the
// other recent samples. Eight pings on each connection, then one every PROBE_EVERY_MS,
// keep a short round trip in the window. Samples that contradict each other (a clock
// changed) restart the estimate from the newest.

const WINDOW_MS = 5 * 60 * 1000; // samples older than this are forgotten (clock drift)
const MAX_SAMPLES = 64;
const PROBES_ON_CONNECT = 8;
const PROBE_GAP_MS = 150;
const PROBE_EVERY_MS = 10000;

let samples = []; // {lo, hi, rtt, at}: hi = Infinity, rtt = Infinity for events
let estimate = null; // cached offset (ms), null until recomputed

function add(sample) {
  const now = sample.at;
  samples = samples.filter((s) => now - s.at < WINDOW_MS);
  samples.push(sample);
  if (samples.length > MAX_SAMPLES) {
    // Drop the oldest event first: replies carry both bounds.
    const oldestEvent = samples.findIndex((s) => s.hi === Infinity);
    samples.splice(oldestEvent >= 0 && oldestEvent < samples.length - 1 ? oldestEvent : 0, 1);
  }
  const { lower, upper } = bounds();
  if (lower > upper) samples = [sample]; // contradiction: a clock jumped
  estimate = null;
}

function bounds() {
  let lower = -Infinity;
  let upper = Infinity;
  for (const s of samples) {
    lower = Math.max(lower, s.lo);
    upper = Math.min(upper, s.hi);
  }
  return { lower, upper };
}

function compute() {
  const { lower, upper } = bounds();
  let best = null;
  for (const s of samples) if (s.hi !== Infinity && (!best || s.rtt < best.rtt)) best = s;
  // Without a reply yet, the clocks are assumed to agree as far as the events allow.
  const guess = best ? (best.lo + best.hi) / 2 : 0;
  return Math.min(Math.max(guess, lower), upper);
}

/** Server clock - this clock, in ms (best estimate). */
export function offset() {
  if (estimate === null) estimate = compute();
  return estimate;
}

/** The best bound on the estimate's error (ms): half the shortest round trip, or Infinity. */
export function uncertainty() {
  let rtt = Infinity;
  for (const s of samples) rtt = Math.min(rtt, s.rtt);
  return rtt / 2;
}

export function serverNow() {
  return Date.now() + offset();
}

/** A server stamp carried by an event just received. */
export function observeEvent(stamp, received = Date.now()) {
  if (!Number.isFinite(stamp)) return;
  add({ lo: stamp - received, hi: Infinity, rtt: Infinity, at: received });
}

/** A server stamp made while handling our request sent at `sent`, answered at `received`. */
export function observeReply(stamp, sent, received = Date.now()) {
  if (!Number.isFinite(stamp) || !Number.isFinite(sent) || received < sent) return;
  add({ lo: stamp - received, hi: stamp - sent, rtt: received - sent, at: received });
}

/**
 * Learn the offset from `bus` (its "server-time" notices of every reply and event) and
 * probe it with pings: a few on each connection, then one every PROBE_EVERY_MS.
 */
export function start(bus) {
  bus.on("server-time", ({ stamp, sent, received }) => {
    if (sent === undefined) observeEvent(stamp, received);
    else observeReply(stamp, sent, received);
  });
  const ping = () => bus.request("system.health.ping", {}, { timeout: 5000 }).catch(() => {});
  bus.on("status", async (status) => {
    if (status !== "open") return;
    for (let i = 0; i < PROBES_ON_CONNECT && bus.status === "open"; i++) {
      await ping();
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
  });
  setInterval(() => bus.status === "open" && ping(), PROBE_EVERY_MS);
}

/**
 * The position (ms) of a playback state at server time `now`, as the server computes it
 * (never before the start: a start stamped in the future holds at `position_ms`).
 */
export function livePosition(state, now = serverNow()) {
  if (!state) return 0;
  const position = state.position_ms || 0;
  return state.playing ? position + Math.max(0, now - (state.position_at || 0)) : position;
}

/**
 * Where the audio should be (ms) at server time `now`. Unlike `livePosition`, negative
 * before a start stamped in the future: -x means "starts in x ms".
 */
export function targetPosition(state, now = serverNow()) {
  if (!state) return 0;
  const position = state.position_ms || 0;
  if (!state.playing) return position;
  return position + (now - (state.position_at || 0));
}
