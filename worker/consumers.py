"""The worker consumer: runs handlers for ``bus.request`` messages on the ``worker`` channel.

Served by ``manage.py runworker worker`` in the scaled mode (the embedded mode calls the
same ``execute_safely`` in-process). Requests run concurrently up to
``WORKER_CONCURRENCY``; each failure is caught at this boundary, answered with an error,
logged, and the loop keeps consuming. A request whose caller has already given up
(past its deadline) is dropped unanswered: nobody is waiting for it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.consumer import AsyncConsumer
from django.conf import settings

from common.clients import run_sync, send_reply
from common.errors import BadRequest, Internal
from common.messages import Message
from common.router import execute_safely

logger = logging.getLogger(__name__)


class WorkerConsumer(AsyncConsumer):
    channel_layer_alias = "worker"

    async def bus_request(self, request: dict[str, Any]) -> None:
        if not hasattr(self, "slots"):
            self.slots = asyncio.Semaphore(getattr(settings, "WORKER_CONCURRENCY", 8))
            self.tasks: set[asyncio.Task] = set()
        await self.slots.acquire()
        task = asyncio.create_task(self.answer(request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def answer(self, request: dict[str, Any]) -> None:
        try:
            reply_to = request.get("reply_to")
            correlation = request.get("correlation")
            if not isinstance(reply_to, str) or not isinstance(correlation, str):
                logger.warning("dropped a worker request without reply_to/correlation")
                return
            if float(request.get("deadline") or 0) < time.time():
                logger.info("dropped an expired request")
                return
            try:
                message = Message.from_wire(request["message"])
            except (KeyError, TypeError, ValueError):
                await send_reply(reply_to, correlation, {"ok": False, "error": BadRequest("Malformed bus request.").as_dict()})
                return
            outcome = await run_sync(execute_safely, message)
            await send_reply(reply_to, correlation, outcome)
        except Exception:
            logger.exception("worker failed to answer a request")
            try:
                await send_reply(request["reply_to"], request["correlation"], {"ok": False, "error": Internal().as_dict()})
            except Exception:
                pass
        finally:
            self.slots.release()
