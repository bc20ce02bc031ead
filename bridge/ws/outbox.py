"""Frames to one WebSocket client, with back-pressure.

daphne never blocks ``send``: whatever a slow client does not read piles up in the
server's socket buffer, without bound. The outbox writes only while the connection's
transport holds less than ``HIGH_WATER_BYTES`` unsent (and resumes below
``LOW_WATER_BYTES``); meanwhile frames wait, in order. Waiting events beyond
``WS_MAX_PENDING_EVENTS`` are dropped and, once the client reads again, it gets one
``system.session.resync_required`` (``reason: slow_client``). Replies are never dropped:
when more than ``WS_MAX_PENDING_EVENTS`` of them wait, the client is not reading at all
and the connection is closed with 4408.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from typing import Any, Awaitable, Callable

from django.conf import settings

from common.envelope import encode, event_frame

from ..presence import RESYNC_EVENT
from . import CLOSE_SLOW, STATS
from .transport import can_write_directly, transport_backlog, write_frame

logger = logging.getLogger(__name__)

# Bytes the transport may hold unsent before frames wait in the outbox, and the level it
# must drain to before they flow again.
HIGH_WATER_BYTES = 256 * 1024
LOW_WATER_BYTES = 64 * 1024
DRAIN_POLL_SECONDS = (0.01, 0.25)  # first and longest wait between checks while congested

EVENT, OTHER, RESYNC = "event", "other", "resync"  # kinds of waiting frames


def max_pending_events() -> int:
    """WS_MAX_PENDING_EVENTS: events that may wait for a slow client before they are dropped."""
    return max(1, int(settings.WS_MAX_PENDING_EVENTS))


def frame_text(frame: dict[str, Any]) -> str:
    """A frame's JSON text; lone surrogates (from a client's "\\ud800" escapes) escaped."""
    text = encode(frame)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(frame, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text


class Outbox:
    """One connection's outgoing frames.

    ``send``: the connection's ASGI send; ``protocol``: daphne's protocol behind it (None:
    no flow control, no direct writes); ``close``: closes the connection with a code.
    ``closed`` stops everything; whether events are wanted yet is the caller's business.
    """

    def __init__(self, send: Callable[[dict], Awaitable[None]], protocol: Any,
                 close: Callable[[int], Awaitable[None]], max_pending_events: int) -> None:
        self.send = send
        self.protocol = protocol
        self.close_connection = close
        self.max_pending_events = max_pending_events
        self.closed = False
        self.waiting: collections.deque = collections.deque()  # (kind, text)
        self.queued_events = 0
        self.queued_other = 0
        self.dropped = 0  # events dropped since the client was last told
        self.resync_pending = False
        self.congested_since: float | None = None
        self.writer: asyncio.Task | None = None

    def backlog(self) -> int | None:
        """Bytes the transport holds unsent (None: unknown, no flow control)."""
        return transport_backlog(self.protocol) if self.protocol is not None else None

    def congested(self) -> bool:
        backlog = self.backlog()
        if backlog is None:
            return False
        return backlog > (LOW_WATER_BYTES if self.congested_since is not None else HIGH_WATER_BYTES)

    async def put(self, text: str, *, droppable: bool = False, frame: bytes | None = None,
                  send_now: bool = True) -> None:
        """Write a frame's text now, or queue it behind earlier ones while the client reads slowly.

        ``droppable`` frames (events) are discarded beyond ``WS_MAX_PENDING_EVENTS`` and the
        client is told to resync; the others (replies, the welcome) never are.
        ``frame``: the same text as a ready WebSocket frame. When the connection is a plain
        open daphne connection with nothing queued, it is written straight to the socket's
        transport: one event to 1,000 connections then costs 1,000 buffer appends instead of
        1,000 trips through daphne's and autobahn's send paths (``bench fanout``).
        ``send_now``: see ``bridge.ws.transport.write_frame``.
        """
        if self.closed:
            return
        if not self.waiting and not self.congested():
            self.congested_since = None
            if frame is not None and can_write_directly(self.protocol, len(frame)):
                write_frame(self.protocol.transport, frame, send_now)
                return
            await self.send({"type": "websocket.send", "text": text})
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
            self.waiting.append((EVENT, text))
        else:
            if self.queued_other >= self.max_pending_events:
                logger.warning("closing a connection that is not reading (%d replies waiting)", self.queued_other)
                STATS["closed_slow"] += 1
                self.closed = True
                self.waiting.clear()
                await self.close_connection(CLOSE_SLOW)
                return
            self.queued_other += 1
            self.waiting.append((OTHER, text))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.get_running_loop().create_task(self.drain())

    def drop_queued_events(self) -> None:
        """Drop the waiting events; the client is told to resync when it reads again."""
        kept = collections.deque(item for item in self.waiting if item[0] != EVENT)
        dropped = len(self.waiting) - len(kept)
        self.waiting = kept
        self.dropped += dropped
        STATS["events_dropped"] += dropped
        STATS["slow_client_resyncs"] += 1
        self.queued_events = 0
        self.resync_pending = True
        self.waiting.append((RESYNC, ""))
        logger.info("dropped %d events for a slow client; it will be asked to resync", self.dropped)

    async def drain(self) -> None:
        """Write the waiting frames as the transport drains."""
        shortest, longest = DRAIN_POLL_SECONDS
        delay = shortest
        while self.waiting and not self.closed:
            if self.congested():
                if self.congested_since is None:
                    self.congested_since = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            self.congested_since = None
            delay = shortest
            kind, text = self.waiting.popleft()
            if kind == EVENT:
                self.queued_events -= 1
            elif kind == OTHER:
                self.queued_other -= 1
            else:
                text = encode(event_frame(RESYNC_EVENT.name, {"reason": "slow_client", "dropped": self.dropped}))
                self.dropped = 0
                self.resync_pending = False
            await self.send({"type": "websocket.send", "text": text})

    def stop(self) -> None:
        """Send nothing more: the connection is closed."""
        self.closed = True
        self.waiting.clear()
        if self.writer is not None:
            self.writer.cancel()
