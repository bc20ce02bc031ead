"""Group events for this process's connections: one channel-layer subscription per group.

Instead of every connection's channel joining a group (the layer then queues, and every
connection decodes and re-encodes, each broadcast once per member), the process joins
each group once with a channel of its own, decodes each event once, encodes its frame
once and writes that text to every local member's outbox. A connection's own channel
still carries its RPC replies.

Members are consumers: ``ready``, ``outbox``, ``request_resync(reason)`` and
``access_changed(reason)``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.layers import get_channel_layer

from common.envelope import BUS_ACCESS, BUS_EVENT, event_frame

from . import STATS
from .busmonitor import resilient_receive
from .outbox import frame_text
from .transport import ws_text_frame

logger = logging.getLogger(__name__)

BURST_GAP = 0.005  # seconds between a group's events under which they count as a burst


class Group:
    """One group this process has joined: its local members and its receive task."""

    def __init__(self, loop) -> None:
        self.loop = loop
        self.members: set = set()
        self.ready: asyncio.Future = loop.create_future()
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.last_event = 0.0  # time.monotonic() of the last event delivered


class LocalGroups:
    """Group membership for this process's connections (see the module's docstring)."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        # Encode each event's WebSocket frame too, for direct writes (WS_DIRECT_WRITES, and
        # the transport's internals as expected); set when a connection opens.
        self.direct_writes = True

    async def join(self, group: str, consumer: Any) -> None:
        loop = asyncio.get_running_loop()
        entry = self.groups.get(group)
        if entry is None or entry.loop is not loop or (entry.ready.done() and entry.ready.exception() is not None):
            entry = Group(loop)
            self.groups[group] = entry
            entry.task = loop.create_task(self.run(group, entry))
        entry.members.add(consumer)
        try:
            # Subscribed before returning: an event published after join() is never missed.
            await asyncio.shield(entry.ready)
        except Exception:
            entry.members.discard(consumer)
            raise

    async def leave(self, group: str, consumer: Any) -> None:
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

    async def run(self, group: str, entry: Group) -> None:
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

    async def deliver(self, group: str, entry: Group, message: Any) -> None:
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
        frame = ws_text_frame(text.encode("utf-8")) if self.direct_writes else None
        # An event on its own goes out to each socket at once; in a burst (the previous event
        # came less than BURST_GAP ago) the frames are left to Twisted, which sends all that
        # piled up for a connection in one call on the next turn of the loop.
        now = time.monotonic()
        send_now = now - entry.last_event >= BURST_GAP
        entry.last_event = now
        for consumer in list(entry.members):
            if not consumer.ready:
                continue  # not welcomed yet, or closing
            try:
                await consumer.outbox.put(text, droppable=True, frame=frame, send_now=send_now)
            except Exception:
                logger.exception("could not deliver an event to a connection")


GROUPS = LocalGroups()
