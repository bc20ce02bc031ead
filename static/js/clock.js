// Server time. Player states carry `position_at`, a server epoch-ms stamp, so the live
// position needs the server's clock. We assume the clocks agree (offset 0) unless the
// stamps prove otherwise: a stamp seen in an event was made before we received it
// (offset >= stamp - received), a stamp in the reply to our own request after we sent it
// (offset <= stamp - sent). The offset is 0 clamped into those bounds.

let lower = -Infinity;
let upper = Infinity;

function bound(lo, hi) {
  if (lo > upper || hi < lower) {
    // Contradicts what we knew (a clock changed): start over from this observation.
    lower = -Infinity;
    upper = Infinity;
  }
  lower = Math.max(lower, lo);
  upper = Math.min(upper, hi);
}

export function offset() {
  return Math.min(Math.max(0, lower), upper);
}

export function serverNow() {
  return Date.now() + offset();
}

/** A server stamp carried by an event just received. */
export function observeEvent(stamp, received = Date.now()) {
  bound(stamp - received, Infinity);
}

/** A server stamp made while handling our request sent at `sent`, answered at `received`. */
export function observeReply(stamp, sent, received = Date.now()) {
  bound(stamp - received, stamp - sent);
}

/** The live position (ms) of a playback state, as the server computes it. */
export function livePosition(state, now = serverNow()) {
  if (!state) return 0;
  let position = state.position_ms || 0;
  if (state.playing) position += Math.max(0, now - (state.position_at || 0));
  return position;
}
