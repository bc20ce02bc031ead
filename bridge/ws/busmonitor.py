"""The message bus's health, as this bridge process sees it.

``resilient_receive``: a channel-layer receive that is retried with back-off while the
layer fails (Redis restarting) instead of killing the connection or the group.
``BusMonitor`` (scaled mode only; the in-memory layer cannot be interrupted): probes the
bus every ``BUS_PROBE_INTERVAL`` seconds (a pub/sub round trip plus Redis's ``run_id``,
through a Redis client of its own) and, when the bus comes back after an interruption or
a Redis restart, asks every connection of this process to resync
(``system.session.resync_required``, ``reason: bus_interrupted``): events published
meanwhile were lost.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Callable

from channels.layers import get_channel_layer
from django.conf import settings

from . import STATS

logger = logging.getLogger(__name__)

RECEIVE_BACKOFF_SECONDS = (0.1, 5.0)
RECEIVE_HEALTHY_AFTER = 1.0  # seconds a retried receive must not fail before the bus counts as back
BUS_PROBE_INTERVAL = 1.0
BUS_PROBE_TIMEOUT = 2.0


async def resilient_receive(layer, channel: str, recovered: Callable[[], None]) -> dict:
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


class BusMonitor:
    """Notices interruptions of the channel layer and tells this process's connections.

    Scaled mode only: the in-memory layer cannot be interrupted. One per event loop.
    Connections attach themselves; each has ``request_resync(reason)``.
    """

    def __init__(self) -> None:
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None
        self.healthy = True
        self.run_id: str | None = None
        self._redis = None

    def attach(self, consumer: Any) -> None:
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
        from redis import asyncio as aioredis  # scaled mode only

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
