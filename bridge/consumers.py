"""The WebSocket consumer at ``/ws/``: every client's connection point.

It authenticates (see ``bridge.auth``), validates every frame at the edge, builds the
context and forwards the request: to a worker (``QueueClient``) or, for the few actions
that need the connection itself (subscriptions), to a bridge-side handler. Requests of
one connection run in order, one at a time, off the receive loop, so replies and events
keep flowing while a request waits. Every request gets exactly one reply.

Close codes: 4401 unauthenticated; 4429 flood (the connection kept sending far beyond the
rate limit after being told).
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from common.clients import ReplyInbox, get_queue_client
from common.envelope import encode, error_frame, event_frame, reply_frame
from common.errors import BadRequest, BusError, Internal, RateLimited, TooLarge
from common.messages import Context, new_id
from common.registry import RunsOn
from common.router import prepare

from .actions import PROTOCOL_VERSION, WELCOME
from . import tail
from .ratelimit import TokenBucket

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FLOOD = 4429
MAX_PENDING = 64  # queued requests per connection before new ones are refused
FLOOD_STRIKES = 200  # rate-limited frames in a row before the connection is closed
MAX_ID_LENGTH = 64
MAX_ACTION_LENGTH = 100


def group_for_user(user_id: int) -> str:
    return f"user.{user_id}"


GROUP_EVERYONE = "users"
GROUP_STAFF = "staff"


class BusConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.connection_id = new_id()
        self.inbox = ReplyInbox(self.channel_name)
        self.queue_client = get_queue_client()
        self.bucket = TokenBucket(settings.WS_RATE_LIMIT, settings.WS_RATE_BURST)
        self.strikes = 0
        self.pending: asyncio.Queue = asyncio.Queue(MAX_PENDING)
        self.joined: set[str] = set()
        self.device: str | None = None
        for group in self.default_groups():
            await self.join(group)
        self.runner = asyncio.create_task(self.run_requests())
        tail.ensure_running()
        await self.send_event(
            WELCOME.name,
            {
                "protocol": PROTOCOL_VERSION,
                "user": {"id": user.pk, "username": user.get_username(), "is_staff": bool(user.is_staff)},
                "connection": self.connection_id,
            },
        )

    def default_groups(self) -> list[str]:
        groups = [GROUP_EVERYONE, group_for_user(self.user.pk)]
        if self.user.is_staff:
            groups.append(GROUP_STAFF)
        return groups

    async def disconnect(self, code: int) -> None:
        runner = getattr(self, "runner", None)
        if runner is not None:
            runner.cancel()
            self.inbox.cancel_all()
        for group in list(getattr(self, "joined", ())):
            await self.leave(group)

    # -- subscriptions, for bridge-side handlers ---------------------------------------

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.add(group)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.discard(group)

    # -- frames from the client ---------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "user"):
            return
        if text_data is None:
            await self.send_frame(error_frame(None, BadRequest("Binary frames are not accepted; send JSON text.")))
            return
        if len(text_data) > settings.WS_MAX_FRAME_BYTES or len(text_data.encode("utf-8")) > settings.WS_MAX_FRAME_BYTES:
            await self.send_frame(error_frame(None, TooLarge(f"Frames are limited to {settings.WS_MAX_FRAME_BYTES} bytes.")))
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_frame(error_frame(None, BadRequest("The frame is not valid JSON.")))
            return
        request_id = frame.get("id") if isinstance(frame, dict) else None
        if not self.valid_id(request_id):
            request_id = None
        if not self.bucket.take():
            self.strikes += 1
            if self.strikes >= FLOOD_STRIKES:
                await self.close(code=CLOSE_FLOOD)
                return
            await self.send_frame(error_frame(request_id, RateLimited()))
            return
        self.strikes = 0
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
            raise BadRequest(f"Unknown request keys: {', '.join(sorted(map(str, unknown)))}.")
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
            frame = await self.handle(request_id, action, payload, self.context())
            await self.send_frame(frame)

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
        self.inbox.deliver(message)

    async def bus_event(self, message: dict[str, Any]) -> None:
        await self.send_event(message["event"], message["payload"])

    async def send_event(self, name: str, payload: dict[str, Any]) -> None:
        await self.send_frame(event_frame(name, payload))

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))
