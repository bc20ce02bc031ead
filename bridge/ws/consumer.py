"""The WebSocket consumer: one client connection (see the package's docstring for the
reliability rules and close codes).

It authenticates (see ``bridge.auth``), validates every frame at the edge, builds the
context and forwards the request: to a worker (``QueueClient``) or, for the few actions
that need the connection itself (subscriptions), to a bridge-side handler. Requests of
one connection run in order, one at a time, off the receive loop, so replies and events
keep flowing while a request waits. Every request gets exactly one reply. Frames to the
client go through the connection's ``Outbox``; group events arrive through ``GROUPS``.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from common import groups
from common.clients import ReplyInbox, get_queue_client, run_sync
from common.envelope import encode, error_frame, event_frame, reply_frame
from common.errors import BadRequest, BusError, Internal, RateLimited, TooLarge
from common.messages import Context, new_id
from common.registry import RunsOn
from common.router import prepare
from tracker import access
from tracker.events import SUBSCRIPTION_REVOKED

from .. import presence, tail
from ..actions import PROTOCOL_VERSION, USER_CHANGED, WELCOME
from ..auth import header
from ..presence import RESYNC_EVENT
from ..ratelimit import TokenBucket
from . import (CLOSE_FLOOD, CLOSE_TOO_MANY_CONNECTIONS, CLOSE_TRY_AGAIN, CLOSE_UNAUTHENTICATED, STATS)
from .busmonitor import MONITOR, resilient_receive
from .credentials import AUTH_WATCH
from .fanout import GROUPS
from .outbox import Outbox, frame_text, max_pending_events
from .transport import INTERNALS, find_protocol

logger = logging.getLogger(__name__)

MAX_PENDING = 64  # queued requests per connection before new ones are refused
FLOOD_STRIKES = 200  # rate-limited frames beyond the accepted ones before the connection is closed
MAX_ID_LENGTH = 64
MAX_ACTION_LENGTH = 100

# The only channel-layer / ASGI message types this consumer handles.
HANDLERS = frozenset({"websocket_connect", "websocket_receive", "websocket_disconnect", "bus_event", "bus_reply"})


def direct_writes_enabled() -> bool:
    """WS_DIRECT_WRITES: write group events' frames straight to daphne's transport (default on)."""
    return bool(settings.WS_DIRECT_WRITES)


class BusConsumer(AsyncWebsocketConsumer):
    ready = False  # welcomed: requests and events flow
    token_key: str | None = None
    session_key: str | None = None  # the Django session a browser connection authenticated with
    counted = False  # in the user's connection count (bridge.presence)
    device: str | None = None

    # -- ASGI plumbing: a channel-layer hiccup must not kill the connection -------------------
    #
    # channels' own ``__call__`` cannot be kept: a failing ``new_channel`` must refuse the
    # connection with 1013 rather than crash it, and the channel's receive must be
    # ``resilient_receive``. Nor its ``dispatch`` (see below).

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        self.outbox = Outbox(send, find_protocol(send, websocket=True), self.close, max_pending_events())
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
        GROUPS.direct_writes = direct_writes_enabled() and INTERNALS.direct_writes is not False
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
        names = [groups.EVERYONE, groups.user_group(self.user.pk)]
        if self.user.is_staff:
            names.append(groups.STAFF)
        return names

    async def disconnect(self, code: int) -> None:
        self.ready = False
        self.outbox.stop()
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.cancel()
        for task in list(getattr(self, "rechecks", ())):
            task.cancel()
        if hasattr(self, "inbox"):
            self.inbox.cancel_all()
        if self.device is not None:
            device, self.device = self.device, None
            await presence.device_offline(device, self.connection_id)
        await self.leave_all()
        if self.counted:
            self.counted = False
            await presence.connection_closed(self.user.pk, self.connection_id)

    @property
    def closing(self) -> bool:
        """Closing or closed: nothing more is sent."""
        return self.outbox.closed

    async def close(self, code=None, reason=None) -> None:
        self.outbox.closed = True
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
                    await (self.join(groups.STAFF) if user.is_staff else self.leave(groups.STAFF))
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

    # -- frames to the client, through the outbox ---------------------------------------------

    async def send_event(self, name: str, payload: dict[str, Any], *, droppable: bool = False) -> None:
        await self.send_frame(event_frame(name, payload), droppable=droppable)

    async def send_frame(self, frame: dict[str, Any], *, droppable: bool = False) -> None:
        """Write a frame now, or queue it behind earlier ones while the client reads slowly.

        ``droppable`` frames (events) are discarded beyond ``WS_MAX_PENDING_EVENTS`` and the
        client is told to resync; the others (replies, the welcome) never are.
        """
        if self.closing or (droppable and not self.ready):
            return
        try:
            text = frame_text(frame)
        except (TypeError, ValueError):
            logger.exception("could not encode an outgoing frame")
            if droppable:
                return
            text = encode(error_frame(frame.get("id"), Internal()))
        await self.outbox.put(text, droppable=droppable)
