// The one WebSocket connection (see docs/protocol.md): requests with a promise each,
// events to listeners, reconnect with exponential backoff, and resync by version of
// every subscribed tracker. Every other module talks to the server through `bus`.
//
// Reconnecting: the delay doubles from BACKOFF_MIN_MS up to BACKOFF_MAX_MS, and while the
// server is away each attempt first probes /healthz (a plain HTTP request), so a server
// that is back is found within about two seconds. After a connection was lost, the
// welcome is followed by a "reconnected" event (the app reloads what the page shows).

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 2000;
const PROBE_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 20000;
const HEARTBEAT_MS = 25000; // a silent network drop is noticed by a heartbeat without reply
const RATE_LIMIT_RETRIES = 4;

export class BusError extends Error {
  constructor(code, message, details) {
    super(message || code);
    this.code = code;
    this.details = details;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Bus {
  constructor() {
    this.url = null;
    this.ws = null;
    this.status = "idle"; // idle | connecting | open | reconnecting
    this.welcome = null;
    this.nextId = 1;
    this.pending = new Map(); // request id -> {resolve, reject, timer}
    this.listeners = new Map(); // event name ("*" for all, "status" for status) -> Set(fn)
    this.subs = new Map(); // tracker id -> subscription (see subscribe)
    this.openWaiters = new Set();
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeat = null;
    this.lost = false; // a connection was lost since the last welcome
  }

  start(url) {
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/`;
    // Back online, or a phone's tab shown again: don't wait for the backoff timer.
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && this.reconnectNow());
    this.connect();
  }

  // -- connection ---------------------------------------------------------------------

  connect() {
    clearTimeout(this.retryTimer);
    this.setStatus(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (e) => this.onFrame(ws, e.data);
    ws.onclose = (e) => this.onClose(ws, e);
    // "open" is declared on the welcome event, not on the socket's open: only then is
    // the connection authenticated and ready for requests.
  }

  reconnectNow() {
    if (this.status === "open" || !this.url) return;
    this.attempt = Math.min(this.attempt, 1);
    if (this.ws) this.ws.close();
    else this.connect();
  }

  /** Try again when the server answers a plain HTTP request; else wait the next delay. */
  async probeThenConnect() {
    const timer = this.retryTimer;
    let answered = false;
    try {
      await fetch("/healthz", { cache: "no-store", credentials: "same-origin", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      answered = true; // any status: the server is there (a 503 names a part that is down)
    } catch {
      answered = false;
    }
    if (timer !== this.retryTimer || this.ws || this.status === "open") return; // someone else reconnected
    if (answered) this.connect();
    else this.scheduleRetry();
  }

  scheduleRetry() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.75 + Math.random() * 0.25);
    this.attempt += 1;
    this.setStatus("reconnecting");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.probeThenConnect(), delay);
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearInterval(this.heartbeat);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new BusError("disconnected", "The connection to the server was lost."));
      this.pending.delete(id);
    }
    if (event.code === 4401) {
      // Not (or no longer) logged in.
      location.href = "/login/?next=" + encodeURIComponent(location.pathname + location.hash);
      return;
    }
    this.lost = true;
    this.scheduleRetry();
  }

  setStatus(status) {
    this.status = status;
    this.emit("status", status);
  }

  whenOpen(timeoutMs) {
    if (this.status === "open") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.openWaiters.delete(waiter);
        reject(new BusError("disconnected", "Not connected to the server."));
      }, timeoutMs);
      this.openWaiters.add(waiter);
    });
  }

  // -- frames ---------------------------------------------------------------------------

  onFrame(ws, text) {
    if (ws !== this.ws) return;
    const received = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.event) {
      // The server's clock (see clock.js): an event's stamp precedes its arrival.
      if (typeof frame.time === "number") this.emit("server-time", { stamp: frame.time, received });
      this.onEvent(frame.event, frame.payload || {});
      return;
    }
    const p = this.pending.get(frame.id);
    if (!p) return;
    // A reply's stamp lies between its request's sending and its arrival.
    if (typeof frame.time === "number") this.emit("server-time", { stamp: frame.time, sent: p.sent, received });
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.ok) p.resolve(frame.result);
    else p.reject(new BusError(frame.error?.code || "internal", frame.error?.message, frame.error?.details));
  }

  onEvent(name, payload) {
    if (name === "system.session.welcome") {
      this.welcome = payload;
      this.attempt = 0;
      this.setStatus("open");
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
      for (const waiter of this.openWaiters) waiter();
      this.openWaiters.clear();
      for (const sub of this.subs.values()) this.sync(sub);
      if (this.lost) {
        this.lost = false;
        queueMicrotask(() => this.emit("reconnected", payload));
      }
    } else if (name === "tracker.action.applied") {
      this.onApplied(payload);
    } else if (name === "tracker.subscription.revoked") {
      // We may no longer read it (removed as a controller, left the party, it ended): the
      // server stopped sending its events; the view hears it as a refused subscription.
      const sub = this.subs.get(payload.tracker);
      if (sub) {
        this.subs.delete(payload.tracker);
        sub.handler.error?.(new BusError("forbidden", "You may no longer see this.", { reason: payload.reason }));
      }
    } else if (name === "system.session.user_changed") {
      this.welcome = { ...this.welcome, user: payload.user };
    } else if (name === "system.session.resync_required") {
      // The server dropped events for us (we read too slowly, or its bus was interrupted).
      for (const sub of this.subs.values()) this.sync(sub);
    }
    this.emit(name, payload);
  }

  async beat() {
    const ws = this.ws;
    try {
      await this.request("system.health.ping", {}, { timeout: 15000 });
    } catch (err) {
      // No reply at all: the connection is dead without having noticed; start over.
      if (err.code === "timeout" && err.local && ws === this.ws && ws) ws.close();
    }
  }

  // -- requests -------------------------------------------------------------------------

  /**
   * Send `action` with `payload`; resolves with the result, rejects with a BusError.
   * `maxAgeMs`: drop it (BusError "disconnected") rather than send it later than this after
   * the call, e.g. a player press made while offline must not act long after.
   */
  async request(action, payload = {}, { timeout = REQUEST_TIMEOUT_MS, maxAgeMs = null } = {}) {
    const deadline = maxAgeMs === null ? null : Date.now() + maxAgeMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(action, payload, timeout, deadline);
      } catch (err) {
        // rate_limited requests were not run: safe to send again a little later.
        if (err.code !== "rate_limited" || attempt >= RATE_LIMIT_RETRIES) throw err;
        await sleep(300 * 2 ** attempt);
      }
    }
  }

  async send(action, payload, timeout, deadline = null) {
    if (this.status !== "open") {
      if (deadline !== null) {
        await this.whenOpen(Math.max(0, deadline - Date.now())).catch(() => {
          throw new BusError("disconnected", "Not connected to the server: that was not sent.");
        });
      } else {
        await this.whenOpen(timeout);
      }
    }
    if (deadline !== null && Date.now() > deadline) throw new BusError("disconnected", "Not connected to the server: that was not sent.");
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const err = new BusError("timeout", "The server did not answer in time.");
        err.local = true;
        reject(err);
      }, timeout);
      const text = JSON.stringify({ id, action, payload });
      this.pending.set(id, { resolve, reject, timer, sent: Date.now() });
      this.ws.send(text);
    });
  }

  // -- events ---------------------------------------------------------------------------

  /** Call `fn(payload, name)` for event `name` ("*" = every event, "status" = connection status). Returns an unsubscribe function. */
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name)?.delete(fn);
  }

  emit(name, payload) {
    for (const key of [name, "*"]) {
      for (const fn of this.listeners.get(key) || []) {
        try {
          fn(payload, name);
        } catch (err) {
          console.error(err);
        }
      }
    }
  }

  // -- trackers -------------------------------------------------------------------------
  //
  // A subscription knows the last version applied. Events with version == known + 1 are
  // applied, older ones ignored, a gap triggers tracker.subscribe {since_version: known}
  // whose reply carries the missing actions (applied in order) or a snapshot (actions
  // null). Events arriving while such a request is in flight wait for its reply. After a
  // reconnect every subscription is synced the same way.

  /**
   * Follow tracker `id`. `handler.snapshot(state, version, kind)` replaces the state;
   * `handler.apply(entry, live)` applies one {version, action, payload, changes};
   * `handler.error(err)` when the server refuses. Resolves once synced.
   */
  subscribe(id, handler) {
    let sub = this.subs.get(id);
    if (!sub) {
      sub = { id, version: null, handler, syncing: null, again: false, buffer: [] };
      this.subs.set(id, sub);
    }
    sub.handler = handler;
    return this.sync(sub);
  }

  unsubscribe(id) {
    if (!this.subs.delete(id)) return;
    if (this.status === "open") this.request("tracker.unsubscribe", { tracker: id }).catch(() => {});
  }

  version(id) {
    return this.subs.get(id)?.version ?? null;
  }

  sync(sub) {
    if (sub.syncing) {
      sub.again = true; // e.g. a gap seen while a sync is in flight: one more afterwards
      return sub.syncing;
    }
    sub.syncing = this.syncOnce(sub).finally(() => {
      sub.syncing = null;
      const buffered = sub.buffer;
      sub.buffer = [];
      for (const event of buffered) this.onApplied(event);
      if (sub.again && this.subs.get(sub.id) === sub && this.status === "open") {
        sub.again = false;
        this.sync(sub);
      }
    });
    return sub.syncing;
  }

  async syncOnce(sub) {
    const payload = { tracker: sub.id };
    if (sub.version !== null) payload.since_version = sub.version;
    let reply;
    try {
      reply = await this.request("tracker.subscribe", payload);
    } catch (err) {
      if (err.code !== "disconnected" && this.subs.get(sub.id) === sub) sub.handler.error?.(err);
      return;
    }
    if (this.subs.get(sub.id) !== sub) return;
    if (reply.actions === null || reply.actions === undefined) {
      sub.version = reply.version;
      sub.handler.snapshot(reply.state, reply.version, reply.kind);
    } else {
      for (const entry of reply.actions) this.applyOne(sub, entry, false);
    }
  }

  onApplied(event) {
    const sub = this.subs.get(event.tracker);
    if (!sub) return;
    if (sub.syncing) {
      sub.buffer.push(event);
      return;
    }
    if (sub.version === null || event.version <= sub.version) return; // not synced yet, or seen
    if (event.version === sub.version + 1) this.applyOne(sub, event, true);
    else this.sync(sub); // a gap: fetch the missing actions
  }

  applyOne(sub, entry, live) {
    if (entry.version !== sub.version + 1) return;
    sub.version = entry.version;
    sub.handler.apply(entry, live);
  }
}

export const bus = new Bus();
