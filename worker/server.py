"""The runworker server loop, made to survive what a long-running worker meets.

Channels' ``Worker`` stops when its listener raises: a message without a ``type``, or the
channel layer losing Redis for a moment. A worker should record the failure and keep
consuming, so this listener logs, backs off briefly and listens again.
"""
from __future__ import annotations

import asyncio
import logging

from channels.worker import Worker

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0


class ResilientWorker(Worker):
    async def listener(self, channel: str) -> None:
        backoff = 0.1
        while True:
            try:
                message = await self.channel_layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("worker could not receive from %r (%s); retrying in %.1f s", channel, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.1
            if not isinstance(message, dict) or not message.get("type"):
                logger.warning("worker dropped a message without a type on %r", channel)
                continue
            scope = {"type": "channel", "channel": channel}
            instance_queue = self.get_or_create_application_instance(channel, scope)
            await instance_queue.put(message)
