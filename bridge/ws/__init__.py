"""The WebSocket runtime at ``/ws/``: every client's connection point.

- ``consumer``: the connection (lifecycle, frames from the client, the request queue,
  one reply per request, subscriptions, rights that change while connected);
- ``outbox``: frames to the client, with back-pressure;
- ``fanout``: group events, joined once per process and encoded once;
- ``busmonitor``: channel-layer receives that survive a bus interruption, and the
  monitor that tells connections when the bus comes back;
- ``credentials``: the periodic recheck of connections' tokens and sessions;
- ``transport``: the only code that touches daphne's, autobahn's or Twisted's internals.

Reliability (see the README's "Scaling out"):

- **Backpressure.** daphne never blocks ``send``: whatever a slow client does not read
  piles up in the server's socket buffer, without bound. So every frame goes through a
  per-connection outbox that writes only while the connection's transport holds less
  than ``HIGH_WATER_BYTES`` unsent (and resumes below ``LOW_WATER_BYTES``). Events
  waiting there are counted; beyond ``WS_MAX_PENDING_EVENTS`` (default 1000) they are
  dropped and, once the client reads again, it gets one ``system.session.resync_required``
  event (``reason: slow_client``) telling it to resync its trackers by version. Replies
  are never dropped: when more than ``WS_MAX_PENDING_EVENTS`` of them wait, the client
  is not reading at all and the connection is closed with **4408**.
- **Bus interruptions.** A channel-layer receive that fails (Redis restarting) is
  retried with back-off instead of killing the connection; a process-wide monitor probes
  the bus every ``BUS_PROBE_INTERVAL`` seconds (a pub/sub round trip plus Redis's
  ``run_id``) and, when the bus comes back after an interruption or a Redis restart,
  every connection of this bridge gets ``system.session.resync_required``
  (``reason: bus_interrupted``): events published meanwhile were lost.
- **Liveness.** daphne's keepalive pings (``--ping-interval``/``--ping-timeout``) drop
  clients that stop answering; ``disconnect`` then marks the connection's device
  offline (``bridge.presence``).
- **Fan-out.** Group events reach connections through ``LocalGroups``: the process joins
  each group once, decodes each event and encodes its frame once, and writes it to every
  local member (straight to daphne's transport when the connection is idle and plain,
  ``WS_DIRECT_WRITES``); a connection's own channel carries only its RPC replies.
- **Access.** Rights follow the user's record while connected: a ``bus.access`` message on
  the user's group (sent by ``tracker.access`` when a controller is removed, a party left
  or ended, the user deactivated or their staff flag changed; also on the periodic
  ``AuthWatch`` round when the staff flag differs) makes every connection of the user
  reload it, leave the trackers it may no longer read (``tracker.subscription.revoked``),
  follow the staff flag (``system.session.user_changed``) or close with 4401.
  ``tracker.subscribe`` checks read access before it joins a tracker's group.
- Only the channel-layer message types the consumer lists reach handlers, and a failing
  handler is logged without killing the connection.

Close codes: 4401 unauthenticated (also: while connected, a token deleted, a browser
session logged out, deleted or expired, the user deactivated, or the user's password
changed; checked every ``WS_AUTH_RECHECK`` seconds, see ``AuthWatch``); 4408 too slow (replies kept
waiting, the client is not reading); 4409 too many connections (the user already holds
``WS_MAX_CONNECTIONS_PER_USER`` open connections, default 20, counted across every bridge
in ``bridge.presence``: close one first); 4429 flood (the connection kept sending far beyond the rate limit after being
told: its rate-limited frames outnumber its accepted ones by 200); 1013 try again later
(the message bus was unreachable while connecting). WebSocket protocol violations
(unmasked or malformed frames, invalid UTF-8, frames over 1 MiB) make daphne drop the
connection without a close frame.
"""
import collections

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SLOW = 4408
CLOSE_FLOOD = 4429
CLOSE_TOO_MANY_CONNECTIONS = 4409
CLOSE_TRY_AGAIN = 1013  # standard "try again later"

# This process's counts of what happened to its WebSocket connections (drops, closes,
# resyncs, bus interruptions): read by tests and when debugging. Written only by the
# modules of this package, at most once per event (never once per connection and event).
STATS: collections.Counter = collections.Counter()
