"""The WebSocket consumer at ``/ws/``: every client's connection point.

It authenticates (see ``bridge.auth``), validates every frame at the edge, builds the
context and forwards the request: to a worker (``QueueClient``) or, for the few actions
that need the connection itself (subscriptions), to a bridge-side handler. Requests of
one connection run in order, one at a time, off the receive loop, so replies and events
keep flowing while a request waits. Every request gets exactly one reply.

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
- Only the channel-layer message types below reach handlers, and a failing handler is
  logged without killing the connection.

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
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
import weakref
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from common import groups
from common.clients import ReplyInbox, get_queue_client
from common.envelope import BUS_ACCESS, BUS_EVENT, encode, error_frame, event_frame, reply_frame
from common.errors import BadRequest, BusError, Internal, RateLimited, TooLarge
from common.messages import Context, new_id
from common.registry import RunsOn
from common.router import prepare

from . import presence, tail
from .actions import PROTOCOL_VERSION, USER_CHANGED, WELCOME
from .auth import header
from .presence import RESYNC_EVENT
from .ratelimit import TokenBucket
from .transport import find_protocol, transport_backlog, write_frame

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SLOW = 4408
CLOSE_FLOOD = 4429
CLOSE_TOO_MANY_CONNECTIONS = 4409
CLOSE_TRY_AGAIN = 1013  # standard "try again later"
MAX_PENDING = 64  # queued requests per connection before new ones are refused
FLOOD_STRIKES = 200  # rate-limited frames beyond the accepted ones before the connection is closed
MAX_ID_LENGTH = 64
MAX_ACTION_LENGTH = 100

# Outgoing flow control: bytes the transport may hold unsent before frames wait in the
# outbox, and the level it must drain to before they flow again.
HIGH_WATER_BYTES = 256 * 1024
LOW_WATER_BYTES = 64 * 1024
DRAIN_POLL_SECONDS = (0.01, 0.25)  # first and longest wait between checks while congested

# Channel-layer receive retries, and the bus monitor.
RECEIVE_BACKOFF_SECONDS = (0.1, 5.0)
RECEIVE_HEALTHY_AFTER = 1.0  # seconds a retried receive must not fail before the bus counts as back
BUS_PROBE_INTERVAL = 1.0
BUS_PROBE_TIMEOUT = 2.0

# The only channel-layer / ASGI message types this consumer handles.
HANDLERS = frozenset({"websocket_connect", "websocket_receive", "websocket_disconnect", "bus_event", "bus_reply"})

# Counters for this process (logged; read by the benchmarks and tests).
STATS: collections.Counter = collections.Counter()


def max_pending_events() -> int:
    """WS_MAX_PENDING_EVENTS: events that may wait for a slow client before they are dropped."""
    return max(1, int(settings.WS_MAX_PENDING_EVENTS))


group_for_user = groups.user_group  # kept: tests and tools name it here
GROUP_EVERYONE = groups.EVERYONE
GROUP_STAFF = groups.STAFF


# -- the bus monitor --------------------------------------------------------------------------


class BusMonitor:
    """Notices interruptions of the channel layer and tells this process's connections.

    Scaled mode only: the in-memory layer cannot be interrupted. One per event loop.
    """

    def __init__(self) -> None:
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None
        self.healthy = True
        self.run_id: str | None = None
        self._redis = None

    def attach(self, consumer: "BusConsumer") -> None:
        self.consumers.add(consumer)
        if not settings.SCALED:
            return
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self._redis = None
            self.task = loop.create_task(self.run())

    def interrupted(self, reason: str) -> None:
        STATS["bus_interruptions"] += 1
        for consumer in list(self.consumers):
            consumer.request_resync(reason)

    async def redis_run_id(self) -> str | None:
        from redis import asyncio as aioredis

        if self._redis is None:
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=BUS_PROBE_TIMEOUT,
                                                  socket_connect_timeout=BUS_PROBE_TIMEOUT)
        info = await self._redis.info("server")
        return str(info.get("run_id"))

    async def probe(self, layer, channel: str, n: int) -> None:
        await layer.send(channel, {"type": "bus.probe", "n": n})
        deadline = time.monotonic() + BUS_PROBE_TIMEOUT
        while True:
            message = await asyncio.wait_for(layer.receive(channel), max(0.01, deadline - time.monotonic()))
            if message.get("n") == n:
                return

    async def run(self) -> None:
        layer = get_channel_layer()
        channel: str | None = None
        n = 0
        while True:
            await asyncio.sleep(BUS_PROBE_INTERVAL)
            n += 1
            try:
                if channel is None:
                    channel = await layer.new_channel("monitor.")
                await self.probe(layer, channel, n)
                run_id = await self.redis_run_id()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A timed-out receive drops the pub/sub subscription: subscribe afresh next time.
                channel = None
                if self.healthy:
                    logger.warning("message bus unreachable (%s: %s); connections will resync when it is back",
                                   exc.__class__.__name__, exc)
                self.healthy = False
                continue
            restarted = self.run_id is not None and run_id != self.run_id
            if not self.healthy or restarted:
                logger.warning("message bus back%s; asking %d connections to resync",
                               " (Redis restarted)" if restarted else "", len(self.consumers))
                self.interrupted("bus_interrupted")
            self.healthy = True
            self.run_id = run_id


MONITOR = BusMonitor()


def auth_recheck_seconds() -> float:
    """WS_AUTH_RECHECK: seconds between checks that connections' tokens and sessions are still valid (default 30)."""
    return max(0.5, float(settings.WS_AUTH_RECHECK))


RECHECK_CHUNK = 500  # keys per query


def _valid_tokens(keys: list[str]) -> set[str]:
    from rest_framework.authtoken.models import Token

    valid: set[str] = set()
    for start in range(0, len(keys), RECHECK_CHUNK):
        chunk = keys[start:start + RECHECK_CHUNK]
        valid.update(Token.objects.filter(key__in=chunk, user__is_active=True).values_list("key", flat=True))
    return valid


def _session_data(keys: list[str]) -> dict[str, dict | None]:
    """The data of those of these sessions that still exist and have not expired.

    The database engine (``django.contrib.sessions.backends.db``, ``cached_db`` and their
    subclasses, whose database row is the authority) is read in one query per
    ``RECHECK_CHUNK`` keys; any other engine through its ``SessionStore`` API, one key at
    a time. Errors reading the store propagate (the caller then closes nothing). A key
    absent from the result is gone; one whose state could not be told maps to ``None``.
    """
    from importlib import import_module

    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
    from django.utils import timezone

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict | None] = {}
    if issubclass(store_class, DatabaseStore):
        model = store_class.get_model_class()
        decoder = store_class()
        now = timezone.now()
        for start in range(0, len(keys), RECHECK_CHUNK):
            chunk = keys[start:start + RECHECK_CHUNK]
            rows = model.objects.filter(session_key__in=chunk, expire_date__gt=now).values_list("session_key", "session_data")
            for key, data in rows:
                found[key] = decoder.decode(data)
        return found
    for key in keys:
        data = store_class(session_key=key).load()  # {} when missing or expired
        if data:
            found[key] = data
        elif store_class().exists(key):
            # Some engines (cache) answer {} when their backend fails; exists() raises then,
            # or says the session is there: either way, not a reason to close anything.
            found[key] = None
    return found


def _valid_sessions(watched: list[tuple[str, Any]]) -> set[tuple[str, Any]]:
    """Which (session key, user id) pairs still authenticate that user, as Django's own
    session authentication would: the session exists and has not expired, it is logged
    in as that user, the user is active, and the session's auth hash still matches the
    user's (it changes with the password). Sessions whose state could not be read count
    as valid until the next round."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.core.exceptions import ValidationError
    from django.utils.crypto import constant_time_compare

    found = _session_data(sorted({key for key, _ in watched}))
    user_model = get_user_model()
    users: dict[Any, Any] = {}
    user_ids = sorted({user_id for _, user_id in watched}, key=str)
    for start in range(0, len(user_ids), RECHECK_CHUNK):
        chunk = user_ids[start:start + RECHECK_CHUNK]
        users.update((user.pk, user) for user in user_model._default_manager.filter(pk__in=chunk, is_active=True))

    valid: set[tuple[str, Any]] = set()
    for key, user_id in watched:
        if key not in found:
            continue  # logged out, deleted or expired
        data = found[key]
        if data is None:
            valid.add((key, user_id))  # unknown this round
            continue
        try:
            if user_model._meta.pk.to_python(data.get(SESSION_KEY)) != user_id:
                continue  # logged out, or now someone else's session
        except ValidationError:
            continue
        user = users.get(user_id)
        if user is None:
            continue  # deactivated or deleted
        if hasattr(user, "get_session_auth_hash"):
            stored = data.get(HASH_SESSION_KEY)
            if not stored:
                continue
            hashes = [user.get_session_auth_hash()]
            if hasattr(user, "get_session_auth_fallback_hash"):  # SECRET_KEY_FALLBACKS
                hashes.extend(user.get_session_auth_fallback_hash())
            if not any(constant_time_compare(stored, current) for current in hashes):
                continue  # the password changed (or the session was tampered with)
        valid.add((key, user_id))
    return valid


def _staff_flags(user_ids: list[Any]) -> dict[Any, bool]:
    """``is_staff`` of these users as stored now (absent: deleted)."""
    from django.contrib.auth import get_user_model

    flags: dict[Any, bool] = {}
    for start in range(0, len(user_ids), RECHECK_CHUNK):
        chunk = user_ids[start:start + RECHECK_CHUNK]
        flags.update(get_user_model()._default_manager.filter(pk__in=chunk).values_list("pk", "is_staff"))
    return flags


def _recheck(token_keys: list[str], sessions: list[tuple[str, Any]], user_ids: list[Any] = ()
             ) -> tuple[set[str] | None, set[tuple[str, Any]] | None, dict[Any, bool] | None]:
    """One round of ``AuthWatch``, in one worker thread: the still-valid tokens and
    (session key, user id) pairs, and the users' staff flags; None for a kind whose check
    failed (logged)."""
    tokens = valid_sessions = staff = None
    try:
        tokens = _valid_tokens(token_keys) if token_keys else set()
    except Exception as exc:
        logger.warning("could not recheck connection tokens (%s)", exc)
    try:
        valid_sessions = _valid_sessions(sessions) if sessions else set()
    except Exception as exc:
        logger.warning("could not recheck connection sessions (%s)", exc)
    try:
        staff = _staff_flags(list(user_ids)) if user_ids else {}
    except Exception as exc:
        logger.warning("could not recheck connection users' staff flags (%s)", exc)
    return tokens, valid_sessions, staff


class AuthWatch:
    """Closes (4401) connections whose credentials stopped being valid while connected.

    Token connections: the token was deleted or its user deactivated. Browser (session)
    connections: the session was logged out, deleted or expired, its user deactivated, or
    the user's password changed (the session's auth hash no longer matches, as in Django's
    own session authentication). A connection whose user's staff flag changed (also
    through ``QuerySet.update()``, which sends no signal to ``tracker.access``) rechecks its
    access at once. One check per ``WS_AUTH_RECHECK`` seconds for all of
    this process's connections, batched (one query per 500 tokens, and for the database
    session engine one per 500 sessions plus one for their users); a check that fails
    closes nothing and is retried next round. Closures count in ``STATS["closed_revoked"]``.
    """

    def __init__(self) -> None:
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None

    def attach(self, consumer: "BusConsumer") -> None:
        if not consumer.token_key and not consumer.session_key:
            return
        self.consumers.add(consumer)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(auth_recheck_seconds())
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("connection credentials recheck failed")

    async def check(self) -> None:
        """One round: close the connections whose token or session is no longer valid."""
        from common.clients import run_sync

        live = [c for c in list(self.consumers) if c.ready and not c.closing]
        if not live:
            return
        token_keys = sorted({c.token_key for c in live if c.token_key})
        sessions = sorted({(c.session_key, c.user.pk) for c in live if c.session_key and not c.token_key}, key=str)
        user_ids = sorted({c.user.pk for c in live}, key=str)
        try:
            tokens, valid_sessions, staff = await run_sync(_recheck, token_keys, sessions, user_ids)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("could not recheck connection credentials (%s)", exc)
            return
        for consumer in live:
            if not consumer.ready or consumer.closing:
                continue
            if staff is not None and consumer.user.pk in staff and staff[consumer.user.pk] != bool(consumer.user.is_staff):
                consumer.access_changed("account_changed")
            if consumer.token_key:
                if tokens is None or consumer.token_key in tokens:
                    continue
                logger.info("closing a connection whose token was revoked")
            else:
                if valid_sessions is None or (consumer.session_key, consumer.user.pk) in valid_sessions:
                    continue
                logger.info("closing a connection whose session is no longer valid")
            STATS["closed_revoked"] += 1
            await consumer.close(code=CLOSE_UNAUTHENTICATED)


AUTH_WATCH = AuthWatch()


async def resilient_receive(layer, channel: str, recovered) -> dict:
    """``layer.receive(channel)``, retried with back-off while it fails; ``recovered()`` is
    called once it works again (a receive that has not failed for ``RECEIVE_HEALTHY_AFTER``)."""
    try:
        return await layer.receive(channel)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.warning("channel layer receive on %s failed (%s); retrying", channel[:40], exc)
    delay, longest = RECEIVE_BACKOFF_SECONDS
    while True:
        STATS["receive_errors"] += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2, longest)
        receiving = asyncio.ensure_future(layer.receive(channel))
        try:
            done, _ = await asyncio.wait({receiving}, timeout=RECEIVE_HEALTHY_AFTER)
            if not done or receiving.exception() is None:
                recovered()
                return await receiving
            receiving.result()
        except asyncio.CancelledError:
            receiving.cancel()
            raise
        except Exception:
            continue


# -- group fan-out, once per process -------------------------------------------------------------


class _Group:
    def __init__(self, loop) -> None:
        self.loop = loop
        self.members: set = set()
        self.ready: asyncio.Future = loop.create_future()
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.last_event = 0.0  # time.monotonic() of the last event delivered


class LocalGroups:
    """Group membership for this process's connections: one channel-layer subscription per group.

    Instead of every connection's channel joining a group (the layer then queues, and every
    connection decodes and re-encodes, each broadcast once per member), the process joins
    each group once with a channel of its own, decodes each event once, encodes its frame
    once and writes that text to every local member. A connection's own channel still
    carries its RPC replies.
    """

    def __init__(self) -> None:
        self.groups: dict[str, _Group] = {}

    async def join(self, group: str, consumer: "BusConsumer") -> None:
        loop = asyncio.get_running_loop()
        entry = self.groups.get(group)
        if entry is None or entry.loop is not loop or (entry.ready.done() and entry.ready.exception() is not None):
            entry = _Group(loop)
            self.groups[group] = entry
            entry.task = loop.create_task(self.run(group, entry))
        entry.members.add(consumer)
        try:
            # Subscribed before returning: an event published after join() is never missed.
            await asyncio.shield(entry.ready)
        except Exception:
            entry.members.discard(consumer)
            raise

    async def leave(self, group: str, consumer: "BusConsumer") -> None:
        entry = self.groups.get(group)
        if entry is None:
            return
        entry.members.discard(consumer)
        if entry.members:
            return
        del self.groups[group]
        entry.task.cancel()  # cancelling the receive also drops the pub/sub subscription
        if entry.channel is not None:
            await get_channel_layer().group_discard(group, entry.channel)

    async def run(self, group: str, entry: _Group) -> None:
        layer = get_channel_layer()
        try:
            entry.channel = await layer.new_channel("group.")
            await layer.group_add(group, entry.channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            entry.ready.set_exception(exc)
            entry.ready.exception()  # retrieved: joiners get it
            if self.groups.get(group) is entry:
                del self.groups[group]
            return
        entry.ready.set_result(None)

        def recovered() -> None:
            for consumer in list(entry.members):
                consumer.request_resync("bus_interrupted")

        while True:
            message = await resilient_receive(layer, entry.channel, recovered)
            await self.deliver(group, entry, message)

    async def deliver(self, group: str, entry: _Group, message: Any) -> None:
        if isinstance(message, dict) and message.get("type") == BUS_ACCESS:
            for consumer in list(entry.members):
                consumer.access_changed(str(message.get("reason") or "account_changed"))
            return
        if not isinstance(message, dict) or message.get("type") != BUS_EVENT:
            logger.warning("dropped a message of unexpected type on group %s", group)
            return
        try:
            text = frame_text(event_frame(message["event"], message["payload"]))
        except Exception:
            logger.exception("dropped a malformed event on group %s", group)
            return
        STATS["events_fanned_out"] += 1
        frame = ws_text_frame(text.encode("utf-8")) if DIRECT_WRITES else None
        # An event on its own goes out to each socket at once; in a burst (the previous event
        # came less than BURST_GAP ago) the frames are left to Twisted, which sends all that
        # piled up for a connection in one call on the next turn of the loop.
        now = time.monotonic()
        send_now = now - entry.last_event >= BURST_GAP
        entry.last_event = now
        for consumer in list(entry.members):
            try:
                await consumer.emit(text, droppable=True, frame=frame, send_now=send_now)
            except Exception:
                logger.exception("could not deliver an event to a connection")


GROUPS = LocalGroups()
DIRECT_WRITES = True  # set from WS_DIRECT_WRITES when the first connection opens
BURST_GAP = 0.005  # seconds between a group's events under which they count as a burst


def ws_text_frame(data: bytes) -> bytes:
    """An unfragmented, unmasked WebSocket text frame (RFC 6455 5.2): what a server sends."""
    length = len(data)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 65536:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + data


def direct_writes_enabled() -> bool:
    """WS_DIRECT_WRITES: write group events' frames straight to daphne's transport (default on)."""
    return bool(settings.WS_DIRECT_WRITES)


def frame_text(frame: dict[str, Any]) -> str:
    """A frame's JSON text; lone surrogates (from a client's "\\ud800" escapes) escaped."""
    text = encode(frame)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(frame, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text


# -- the consumer -----------------------------------------------------------------------------


class BusConsumer(AsyncWebsocketConsumer):
    direct: bool | None = None
    ready = False
    token_key: str | None = None
    session_key: str | None = None  # the Django session a browser connection authenticated with
    closing = False
    counted = False  # in the user's connection count (bridge.presence)
    device: str | None = None

    # -- ASGI plumbing: a channel-layer hiccup must not kill the connection -------------------

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        self.protocol = find_protocol(send)
        self.outbox: collections.deque = collections.deque()
        self.queued_events = 0
        self.queued_other = 0
        self.dropped = 0
        self.resync_pending = False
        self.congested_since: float | None = None
        self.writer: asyncio.Task | None = None
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except Exception as exc:
            logger.warning("refusing a connection: the message bus is unreachable (%s)", exc)
            STATS["refused_bus_down"] += 1
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
            return
        self.channel_receive = self.bus_receive
        try:
            await self.dispatch_loop(receive)
        except StopConsumer:
            pass

    async def dispatch_loop(self, receive) -> None:
        from channels.utils import await_many_dispatch

        await await_many_dispatch([receive, self.channel_receive], self.dispatch)

    async def bus_receive(self) -> dict:
        """The next channel-layer message; retries (with back-off) while the layer fails."""
        return await resilient_receive(self.channel_layer, self.channel_name, lambda: self.request_resync("bus_interrupted"))

    async def dispatch(self, message: Any) -> None:
        """Route to the handler for the message's type (an allow-list); never dies of a handler bug.

        channels' own ``dispatch`` also closes stale database connections in the shared
        sync thread before every message, a thread hop per delivered event; nothing here
        touches the database on the event loop (``run_sync`` manages its own), so it is skipped.
        """
        try:
            name = get_handler_name(message)
        except (ValueError, TypeError, AttributeError, KeyError):
            logger.warning("dropped a message without a usable type")
            return
        if name not in HANDLERS:
            logger.warning("dropped a message of unexpected type %r", name[:100])
            return
        try:
            await getattr(self, name)(message)
        except StopConsumer:
            raise
        except Exception:
            STATS["handler_errors"] += 1
            if name == "websocket_disconnect":
                logger.exception("cleaning up a closed connection failed")
                raise StopConsumer() from None
            logger.exception("connection handler %s failed; the connection carries on", name)

    # -- connection lifecycle ------------------------------------------------------------------

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.connection_id = new_id()
        if not await presence.connection_opened(user.pk, self.connection_id):
            logger.info("closing a connection of user %s: it already holds %d", user.pk, presence.max_connections_per_user())
            STATS["closed_too_many"] += 1
            await self.close(code=CLOSE_TOO_MANY_CONNECTIONS)
            return
        self.counted = True
        self.inbox = ReplyInbox(self.channel_name)
        self.queue_client = get_queue_client()
        self.bucket = TokenBucket(settings.WS_RATE_LIMIT, settings.WS_RATE_BURST)
        self.strikes = 0
        self.pending: asyncio.Queue = asyncio.Queue(MAX_PENDING)
        self.joined: set[str] = set()
        self.access_lock = asyncio.Lock()  # subscription changes and access rechecks, one at a time
        self.rechecks: set[asyncio.Task] = set()
        self.max_pending_events = max_pending_events()
        global DIRECT_WRITES
        DIRECT_WRITES = direct_writes_enabled()
        try:
            for group in self.default_groups():
                await self.join(group)
        except Exception as exc:
            logger.warning("closing a new connection: could not join its groups (%s)", exc)
            STATS["refused_bus_down"] += 1
            await self.leave_all()
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.token_key = self.presented_token()
        self.session_key = self.presented_session()
        self.runner = asyncio.create_task(self.run_requests())
        tail.ensure_running()
        MONITOR.attach(self)
        self.ready = True
        AUTH_WATCH.attach(self)
        await self.send_event(
            WELCOME.name, {"protocol": PROTOCOL_VERSION, "user": self.user_payload(), "connection": self.connection_id}
        )

    def user_payload(self) -> dict[str, Any]:
        return {"id": self.user.pk, "username": self.user.get_username(), "is_staff": bool(self.user.is_staff)}

    def presented_token(self) -> str | None:
        """The token key this connection authenticated with (None for a browser session)."""
        if self.scope.get("auth_method") != "token":
            return None
        scheme, _, key = (header(self.scope, b"authorization") or "").partition(" ")
        return key.strip() or None

    def presented_session(self) -> str | None:
        """The key of the Django session this connection authenticated with (None for a token)."""
        if self.scope.get("auth_method") != "session":
            return None
        session = self.scope.get("session")
        return getattr(session, "session_key", None) or None

    def default_groups(self) -> list[str]:
        groups = [GROUP_EVERYONE, group_for_user(self.user.pk)]
        if self.user.is_staff:
            groups.append(GROUP_STAFF)
        return groups

    async def disconnect(self, code: int) -> None:
        self.closing = True
        self.ready = False
        for task in (getattr(self, "runner", None), self.writer):
            if task is not None:
                task.cancel()
        for task in list(getattr(self, "rechecks", ())):
            task.cancel()
        if hasattr(self, "inbox"):
            self.inbox.cancel_all()
        self.outbox.clear()
        if self.device is not None:
            device, self.device = self.device, None
            await presence.device_offline(device, self.connection_id)
        await self.leave_all()
        if self.counted:
            self.counted = False
            await presence.connection_closed(self.user.pk, self.connection_id)

    async def close(self, code=None, reason=None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    # -- subscriptions, for bridge-side handlers ---------------------------------------

    async def join(self, group: str) -> None:
        await GROUPS.join(group, self)
        self.joined.add(group)

    async def leave(self, group: str) -> None:
        self.joined.discard(group)
        await GROUPS.leave(group, self)

    async def leave_all(self) -> None:
        for group in list(getattr(self, "joined", ())):
            try:
                await self.leave(group)
            except Exception as exc:  # the bus is down: the subscription dies with the process
                logger.info("could not leave %s (%s)", group, exc)

    # -- rights that change while connected (``tracker.access``) ---------------------------

    def access_changed(self, reason: str) -> None:
        """The user's rights changed (a ``BUS_ACCESS`` message): recheck soon, off the delivery loop."""
        if not self.ready or self.closing:
            return
        task = asyncio.get_running_loop().create_task(self.recheck_access(reason))
        self.rechecks.add(task)
        task.add_done_callback(self.rechecks.discard)

    async def recheck_access(self, reason: str) -> None:
        """Reload the user from the database and follow it: leave each followed tracker they
        may no longer read (``tracker.subscription.revoked``), join or leave the staff group
        (``system.session.user_changed``), close with 4401 when the user is gone or inactive.
        Later requests run with the reloaded user (``context``)."""
        from common.clients import run_sync
        from tracker import access
        from tracker.events import SUBSCRIPTION_REVOKED
        prefix = groups.TRACKER_PREFIX
        async with self.access_lock:
            if not self.ready or self.closing:
                return
            followed = {group[len(prefix):]: group for group in self.joined if group.startswith(prefix)}
            try:
                user, lost = await run_sync(access.recheck, self.user.pk, sorted(followed))
                for tracker in lost:
                    await self.leave(followed[tracker])
                    STATS["subscriptions_revoked"] += 1
                    await self.send_event(SUBSCRIPTION_REVOKED.name,
                                          {"tracker": tracker, "reason": reason if user is not None else access.ACCOUNT_CHANGED})
                if user is None:
                    logger.info("closing a connection whose user was deactivated or deleted")
                    STATS["closed_revoked"] += 1
                    await self.close(code=CLOSE_UNAUTHENTICATED)
                    return
                was_staff = bool(self.user.is_staff)
                self.user = user
                if bool(user.is_staff) != was_staff:
                    await (self.join(GROUP_STAFF) if user.is_staff else self.leave(GROUP_STAFF))
                    await self.send_event(USER_CHANGED.name, {"user": self.user_payload()})
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("could not recheck a connection's access; the next change or credentials check retries")

    # -- frames from the client ---------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.ready:
            return
        if text_data is None:
            await self.send_frame(error_frame(None, BadRequest("Binary frames are not accepted; send JSON text.")))
            return
        if len(text_data) > settings.WS_MAX_FRAME_BYTES or len(text_data.encode("utf-8", "surrogatepass")) > settings.WS_MAX_FRAME_BYTES:
            await self.send_frame(error_frame(None, TooLarge(f"Frames are limited to {settings.WS_MAX_FRAME_BYTES} bytes.")))
            return
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.send_frame(error_frame(None, BadRequest("The frame is not valid JSON.")))
            return
        request_id = frame.get("id") if isinstance(frame, dict) else None
        if not self.valid_id(request_id):
            request_id = None
        if not self.bucket.take():
            self.strikes += 1
            if self.strikes >= FLOOD_STRIKES:
                STATS["closed_flood"] += 1
                await self.close(code=CLOSE_FLOOD)
                return
            await self.send_frame(error_frame(request_id, RateLimited()))
            return
        # Each accepted frame forgives one refused frame: a client that keeps sending far
        # beyond its rate (refusals outnumbering acceptances by FLOOD_STRIKES) is closed.
        self.strikes = max(0, self.strikes - 1)
        try:
            action, payload = self.parse_envelope(frame)
        except BusError as exc:
            await self.send_frame(error_frame(request_id, exc))
            return
        try:
            self.pending.put_nowait((request_id, action, payload))
        except asyncio.QueueFull:
            await self.send_frame(error_frame(request_id, RateLimited("Too many requests waiting; wait for replies first.")))

    @staticmethod
    def valid_id(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return -(2**53) < value < 2**53
        return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH

    def parse_envelope(self, frame: Any) -> tuple[str, Any]:
        if not isinstance(frame, dict):
            raise BadRequest("A request must be a JSON object with id, action and payload.")
        unknown = set(frame) - {"id", "action", "payload"}
        if unknown:
            raise BadRequest(f"Unknown request keys: {', '.join(sorted(str(key)[:50] for key in unknown))[:500]}.")
        if "id" not in frame or not self.valid_id(frame["id"]):
            raise BadRequest(f"A request needs an id: a string of 1-{MAX_ID_LENGTH} characters or an integer.")
        action = frame.get("action")
        if not isinstance(action, str) or not action or len(action) > MAX_ACTION_LENGTH:
            raise BadRequest("A request needs an action: the name of what to do, e.g. system.health.ping.")
        return action, frame.get("payload", {})

    def context(self) -> Context:
        return Context(
            user_id=self.user.pk,
            username=self.user.get_username(),
            is_staff=bool(self.user.is_staff),
            via="ws",
            connection=self.connection_id,
            reply_channel=self.channel_name,
            device=self.device,
        )

    async def run_requests(self) -> None:
        while True:
            request_id, action, payload = await self.pending.get()
            # The context is built now, not on receipt: an earlier request in the queue
            # may have registered this connection's device.
            device = self.device
            try:
                frame = await self.handle(request_id, action, payload, self.context())
                await self.send_reply(request_id, frame)
                if self.device != device:
                    await self.device_changed(device)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("request %s failed on the bridge after its handler", action[:100])

    async def send_reply(self, request_id: Any, frame: dict[str, Any]) -> None:
        try:
            await self.send_frame(frame)
        except Exception as exc:
            if exc.__class__.__name__ != "PayloadExceededError":  # autobahn's outgoing message limit
                raise
            logger.warning("a reply was larger than the connection's message limit: %s", exc)
            await self.send_frame(error_frame(request_id, TooLarge(
                "The reply is larger than a WebSocket message may be (1 MiB); ask for less, e.g. a snapshot "
                "(tracker.state.get) instead of the actions since an old version.")))

    async def device_changed(self, previous: str | None) -> None:
        if previous is not None:
            await presence.device_offline(previous, self.connection_id)
        if self.device is not None:
            await presence.device_online(self.device, self.connection_id)

    async def handle(self, request_id: Any, action: str, payload: Any, context: Context) -> dict[str, Any]:
        """One request to one reply frame; never raises."""
        try:
            message, spec = prepare(action, payload, context)
            if spec.runs_on is RunsOn.BRIDGE:
                result = await spec.handler(message, self)
            else:
                result = await self.queue_client.request(message, inbox=self.inbox)
            return reply_frame(request_id, result)
        except BusError as exc:
            return error_frame(request_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("request %s failed on the bridge", action)
            return error_frame(request_id, Internal())

    # -- messages from the channel layer --------------------------------------------------

    async def bus_reply(self, message: dict[str, Any]) -> None:
        if self.ready:
            self.inbox.deliver(message)

    async def bus_event(self, message: dict[str, Any]) -> None:
        """An event sent to this connection's own channel (group events come through ``GROUPS``)."""
        if self.ready:
            await self.send_event(message["event"], message["payload"], droppable=True)

    def request_resync(self, reason: str) -> None:
        """Tell the client (soon, in order) that it may have missed events."""
        if not self.ready:
            return
        STATS[f"resync_{reason}"] += 1
        asyncio.get_running_loop().create_task(self.send_event(RESYNC_EVENT.name, {"reason": reason, "dropped": 0}))

    # -- frames to the client: the outbox ---------------------------------------------------

    async def send_event(self, name: str, payload: dict[str, Any], *, droppable: bool = False) -> None:
        await self.send_frame(event_frame(name, payload), droppable=droppable)

    def can_write_directly(self, size: int) -> bool:
        protocol = self.protocol
        if protocol is None or self.direct is False:
            return False
        try:
            return (protocol.state == protocol.STATE_OPEN and not protocol.send_queue
                    and protocol._perMessageCompress is None and protocol.transport is not None
                    and (not protocol.maxMessagePayloadSize or size <= protocol.maxMessagePayloadSize))
        except AttributeError:  # not the daphne/autobahn we know: never again for this connection
            self.direct = False
            return False

    def write_backlog(self) -> int | None:
        """Bytes the transport holds unsent (None: unknown, no flow control)."""
        return transport_backlog(self.protocol) if self.protocol is not None else None

    def congested(self) -> bool:
        backlog = self.write_backlog()
        if backlog is None:
            return False
        return backlog > (LOW_WATER_BYTES if self.congested_since is not None else HIGH_WATER_BYTES)

    async def send_frame(self, frame: dict[str, Any], *, droppable: bool = False) -> None:
        """Write a frame now, or queue it behind earlier ones while the client reads slowly.

        ``droppable`` frames (events) are discarded beyond ``WS_MAX_PENDING_EVENTS`` and the
        client is told to resync; the others (replies, the welcome) never are.
        """
        if self.closing:
            return
        try:
            text = frame_text(frame)
        except (TypeError, ValueError):
            logger.exception("could not encode an outgoing frame")
            if droppable:
                return
            text = encode(error_frame(frame.get("id"), Internal()))
        await self.emit(text, droppable=droppable)

    async def emit(self, text: str, *, droppable: bool = False, frame: bytes | None = None,
                   send_now: bool = True) -> None:
        """``send_frame`` for a frame already encoded (group events are encoded once per process).

        ``frame``: the same text as a ready WebSocket frame. When the connection is a plain
        open daphne connection with nothing queued, it is written straight to the socket's
        transport: one event to 1,000 connections then costs 1,000 buffer appends instead of
        1,000 trips through daphne's and autobahn's send paths (``bench fanout``).
        ``send_now``: see ``write_frame``.
        """
        if self.closing or (droppable and not self.ready):
            return
        if not self.outbox and not self.congested():
            self.congested_since = None
            if frame is not None and self.can_write_directly(len(frame)):
                write_frame(self.protocol.transport, frame, send_now)
                return
            await self.base_send({"type": "websocket.send", "text": text})
            return
        if droppable:
            if self.resync_pending:
                self.dropped += 1
                STATS["events_dropped"] += 1
                return
            if self.queued_events >= self.max_pending_events:
                self.drop_queued_events()
                self.dropped += 1
                STATS["events_dropped"] += 1
                return
            self.queued_events += 1
            self.outbox.append(("event", text))
        else:
            if self.queued_other >= self.max_pending_events:
                logger.warning("closing a connection that is not reading (%d replies waiting)", self.queued_other)
                STATS["closed_slow"] += 1
                self.outbox.clear()
                await self.close(code=CLOSE_SLOW)
                return
            self.queued_other += 1
            self.outbox.append(("other", text))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.get_running_loop().create_task(self.drain())

    def drop_queued_events(self) -> None:
        kept = collections.deque(item for item in self.outbox if item[0] != "event")
        dropped = len(self.outbox) - len(kept)
        self.outbox = kept
        self.dropped += dropped
        STATS["events_dropped"] += dropped
        STATS["slow_client_resyncs"] += 1
        self.queued_events = 0
        self.resync_pending = True
        self.outbox.append(("resync", ""))
        logger.info("dropped %d events for a slow client; it will be asked to resync", self.dropped)

    async def drain(self) -> None:
        """Write the outbox as the transport drains."""
        shortest, longest = DRAIN_POLL_SECONDS
        delay = shortest
        while self.outbox and not self.closing:
            if self.congested():
                if self.congested_since is None:
                    self.congested_since = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            self.congested_since = None
            delay = shortest
            kind, text = self.outbox.popleft()
            if kind == "event":
                self.queued_events -= 1
            elif kind == "other":
                self.queued_other -= 1
            else:
                text = encode(event_frame(RESYNC_EVENT.name, {"reason": "slow_client", "dropped": self.dropped}))
                self.dropped = 0
                self.resync_pending = False
            await self.base_send({"type": "websocket.send", "text": text})
