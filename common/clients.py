"""Transports behind two small interfaces.

- ``QueueClient``: hand a message to *one* worker. ``InlineQueueClient`` runs the handler
  in this process (embedded mode); ``ChannelQueueClient`` puts it on the ``worker``
  channel of the ``worker`` layer, where ``runworker`` processes compete for it.
- ``BroadcastClient``: send an event to a group (every subscriber), tell a user's
  connections that the user's rights changed, or make a request to one named channel and
  wait for its reply.

Requests are RPC: a correlation id, a reply channel and a timeout. Every request ends in
exactly one outcome: the result, or a ``BusError`` (``timeout`` when nobody answered).
``get_queue_client`` / ``get_broadcast_client`` pick the backend from settings.
"""
from __future__ import annotations

import abc
import asyncio
import collections
import logging
import time
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from .envelope import BUS_ACCESS, BUS_EVENT, BUS_REPLY, BUS_REQUEST
from .errors import BusError, Timeout, Unavailable, error_from_dict
from .messages import Message, new_id
from .registry import registry
from .router import execute_safely

logger = logging.getLogger(__name__)

try:  # the Redis layers raise redis-py's own errors, which are not OSError
    from redis.exceptions import RedisError as _RedisError
except ImportError:  # pragma: no cover - redis is a requirement
    class _RedisError(Exception):
        pass

# Failures of the bus itself (Redis down or restarting): an ``unavailable`` error, never a crash.
BUS_DOWN_ERRORS = (OSError, ConnectionError, asyncio.TimeoutError, _RedisError)

# What went wrong on the bus in this process, counted (and logged where it happens):
# ``channel_full`` (a core-layer channel at capacity refused a message), ``bus_down``
# (the layer raised a connection error), ``reply_lost`` (a reply could not be sent).
BUS_STATS: collections.Counter = collections.Counter()

WORKER_CHANNEL = "worker"
WORKER_LAYER = "worker"
REPLY_LAYER = "default"


def _run_closing_connections(fn, *args):
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


async def run_sync(fn, *args):
    """Run blocking (ORM) code in a thread pool, with fresh database connections."""
    return await sync_to_async(_run_closing_connections, thread_sensitive=False)(fn, *args)


class ReplyInbox:
    """Futures keyed by correlation id, completed by ``bus.reply`` messages on one channel.

    A bridge connection is its own inbox (its consumer hands replies to ``deliver``);
    other callers use ``TemporaryInbox``.
    """

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._pending: dict[str, asyncio.Future] = {}

    def expect(self) -> tuple[str, asyncio.Future]:
        correlation = new_id()
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation] = future
        return correlation, future

    def forget(self, correlation: str) -> None:
        self._pending.pop(correlation, None)

    def deliver(self, reply: dict[str, Any]) -> None:
        future = self._pending.pop(reply.get("correlation", ""), None)
        if future is not None and not future.done():
            future.set_result(reply)
        # A late reply (after its timeout) or a stray one is dropped.

    def cancel_all(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        self._pending.clear()


class TemporaryInbox:
    """An inbox on a fresh channel of the reply layer, for callers without a connection."""

    def __init__(self, alias: str = REPLY_LAYER) -> None:
        self.layer = get_channel_layer(alias)
        self.inbox: ReplyInbox | None = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> ReplyInbox:
        channel = await self.layer.new_channel("rpc.")
        self.inbox = ReplyInbox(channel)
        self._task = asyncio.create_task(self._receive(channel))
        return self.inbox

    async def _receive(self, channel: str) -> None:
        while True:
            message = await self.layer.receive(channel)
            if message.get("type") == BUS_REPLY:
                self.inbox.deliver(message)

    async def __aexit__(self, *exc: Any) -> None:
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass
        # Cancelling the receive also drops the pub/sub layer's subscription.
        self.inbox.cancel_all()



async def rpc(layer_alias: str, channel: str, message: Message, inbox: ReplyInbox, timeout: float) -> Any:
    """Send ``message`` to ``channel`` and wait for its reply on ``inbox``."""
    layer = get_channel_layer(layer_alias)
    correlation, future = inbox.expect()
    request = {
        "type": BUS_REQUEST,
        "correlation": correlation,
        "reply_to": inbox.channel,
        "deadline": time.time() + timeout,
        "message": message.to_wire(),
    }
    try:
        await layer.send(channel, request)
    except ChannelFull:
        inbox.forget(correlation)
        BUS_STATS["channel_full"] += 1
        logger.warning("channel %s is full (%d refusals so far): %s answered unavailable", channel,
                       BUS_STATS["channel_full"], message.action)
        raise Unavailable("The workers are overloaded; try again shortly.") from None
    except BUS_DOWN_ERRORS as exc:
        inbox.forget(correlation)
        BUS_STATS["bus_down"] += 1
        logger.warning("could not send %s to %s: %s", message.action, channel, exc)
        raise Unavailable(f"The message bus is unreachable ({exc.__class__.__name__}); try again shortly.") from None
    try:
        reply = await asyncio.wait_for(future, timeout)
    except asyncio.TimeoutError:
        inbox.forget(correlation)
        raise Timeout(f"No worker answered {message.action} within {timeout:g} s; try again.") from None
    if reply.get("ok"):
        return reply.get("result")
    raise error_from_dict(reply.get("error") or {})


async def send_reply(reply_to: str, correlation: str, outcome: dict[str, Any]) -> None:
    """Answer a ``bus.request`` (used by workers and by bridges answering RPC).

    A reply that cannot be delivered (full channel, bus down) is counted and logged; the
    caller then gets ``timeout``, as promised.
    """
    try:
        await get_channel_layer(REPLY_LAYER).send(reply_to, {"type": BUS_REPLY, "correlation": correlation, **outcome})
    except ChannelFull:
        BUS_STATS["channel_full"] += 1
        BUS_STATS["reply_lost"] += 1
        logger.warning("reply channel %s is full; the caller will time out", reply_to)
    except BUS_DOWN_ERRORS as exc:
        BUS_STATS["bus_down"] += 1
        BUS_STATS["reply_lost"] += 1
        logger.warning("could not send a reply to %s (%s); the caller will time out", reply_to, exc)


class QueueClient(abc.ABC):
    """Hands a message to exactly one worker."""

    mode: str

    @abc.abstractmethod
    async def request(self, message: Message, *, inbox: ReplyInbox | None = None, timeout: float | None = None) -> Any:
        """Run the message's handler on a worker; the result, or a ``BusError``."""


class InlineQueueClient(QueueClient):
    """Embedded mode: the handler runs in this process, in a thread."""

    mode = "inline"

    async def request(self, message: Message, *, inbox: ReplyInbox | None = None, timeout: float | None = None) -> Any:
        outcome = await run_sync(execute_safely, message)
        if outcome["ok"]:
            return outcome["result"]
        raise error_from_dict(outcome["error"])


class ChannelQueueClient(QueueClient):
    """Scaled mode: the ``worker`` channel, consumed by ``runworker worker`` processes."""

    mode = "queue"

    def __init__(self, layer_alias: str = WORKER_LAYER, channel: str = WORKER_CHANNEL) -> None:
        self.layer_alias = layer_alias
        self.channel = channel

    async def request(self, message: Message, *, inbox: ReplyInbox | None = None, timeout: float | None = None) -> Any:
        timeout = settings.RPC_TIMEOUT if timeout is None else timeout
        if inbox is not None:
            return await rpc(self.layer_alias, self.channel, message, inbox, timeout)
        async with TemporaryInbox() as temporary:
            return await rpc(self.layer_alias, self.channel, message, temporary, timeout)


class BroadcastClient:
    """Group broadcasts and requests to named channels, over a channel layer.

    Works unchanged over the in-memory and the Redis layers; the contract tests run it
    against both.
    """

    def __init__(self, layer_alias: str = REPLY_LAYER) -> None:
        self.layer_alias = layer_alias

    async def broadcast(self, group: str, event: str, payload: dict[str, Any]) -> None:
        """Send a declared event to every member of ``group`` (lossy: clients resync)."""
        checked = registry.validate_event(event, payload)
        try:
            await get_channel_layer(self.layer_alias).group_send(group, {"type": BUS_EVENT, "event": event, "payload": checked})
        except ChannelFull:
            BUS_STATS["channel_full"] += 1
            logger.warning("broadcast of %s to %s refused: channel full", event, group)
        except BUS_DOWN_ERRORS as exc:
            BUS_STATS["bus_down"] += 1
            logger.warning("broadcast of %s to %s failed: %s", event, group, exc)

    def broadcast_sync(self, group: str, event: str, payload: dict[str, Any]) -> None:
        async_to_sync(self.broadcast)(group, event, payload)

    async def access_changed(self, group: str, reason: str) -> None:
        """Tell the connections in ``group`` (a user's) that the user's rights changed:
        they recheck them (``BUS_ACCESS``, internal; lossy like every broadcast)."""
        try:
            await get_channel_layer(self.layer_alias).group_send(group, {"type": BUS_ACCESS, "reason": reason})
        except ChannelFull:
            BUS_STATS["channel_full"] += 1
            logger.warning("access change for %s refused: channel full", group)
        except BUS_DOWN_ERRORS as exc:
            BUS_STATS["bus_down"] += 1
            logger.warning("access change for %s not sent: %s", group, exc)

    def access_changed_sync(self, group: str, reason: str) -> None:
        async_to_sync(self.access_changed)(group, reason)

    async def request(self, channel: str, message: Message, *, timeout: float | None = None) -> Any:
        timeout = settings.RPC_TIMEOUT if timeout is None else timeout
        async with TemporaryInbox(self.layer_alias) as inbox:
            return await rpc(self.layer_alias, channel, message, inbox, timeout)


def get_queue_client() -> QueueClient:
    return ChannelQueueClient() if settings.WORKER_MODE == "queue" else InlineQueueClient()


def get_broadcast_client() -> BroadcastClient:
    return BroadcastClient()


__all__ = [
    "BUS_STATS",
    "BusError",
    "BroadcastClient",
    "ChannelQueueClient",
    "InlineQueueClient",
    "QueueClient",
    "ReplyInbox",
    "TemporaryInbox",
    "get_broadcast_client",
    "get_queue_client",
    "rpc",
    "run_sync",
    "send_reply",
]
