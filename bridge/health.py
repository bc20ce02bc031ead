"""``GET /healthz``: real checks of the database, the channel layer and the worker.

Everyone gets the status (``200``/``503``) and the names of the components that are down;
only active staff users (by session or ``Authorization: Token``) get the details, which
name the host and process that answered and the exceptions' texts, and say which ffmpeg
transcodes (or that none runs and originals are served: not counted as down).
"""
from __future__ import annotations

import asyncio
import time

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse

from bridge.tokens import token_user
from common.clients import get_queue_client, run_sync
from common.messages import Context, Message

CHECK_TIMEOUT = 5.0


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


async def _channel_layer() -> dict:
    """A real round trip: send to a fresh channel and receive it back."""
    layer = get_channel_layer()
    channel = await layer.new_channel("health.")
    token = str(time.time())
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        await layer.send(channel, {"type": "health.check", "token": token})
        message = await asyncio.wait_for(receiving, CHECK_TIMEOUT)
    finally:
        receiving.cancel()
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")
    return {"backend": type(layer).__name__}


async def _worker() -> dict:
    message = Message("system.health.ping", {}, Context(via="server"))
    timeout = min(settings.RPC_TIMEOUT, CHECK_TIMEOUT)
    result = await get_queue_client().request(message, timeout=timeout)
    return {"mode": result["mode"], "handled_by": result["handled_by"]}


async def _check(name: str, checker) -> tuple[str, dict]:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(checker(), CHECK_TIMEOUT + 1)
        detail = {"ok": True, **detail}
    except Exception as exc:  # any failure means "down", with the reason
        detail = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    detail["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return name, detail


def _caller_is_staff(request) -> bool:
    """Whether the caller is an active staff user, by API token or else by session.

    False when the database cannot tell (it may be what is down).
    """
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    try:
        user = token_user(key.strip()) if scheme.lower() == "token" and key.strip() else request.user
        return bool(user is not None and user.is_active and user.is_staff)
    except DatabaseError:
        return False


async def healthz(request):
    results = await asyncio.gather(
        _check("database", lambda: run_sync(_database)),
        _check("channel_layer", _channel_layer),
        _check("worker", _worker),
    )
    checks = dict(results)
    down = [name for name, detail in checks.items() if not detail["ok"]]
    body = {"status": "down" if down else "ok", "down": down}
    if await run_sync(_caller_is_staff, request):
        from bridge.transcode.binary import ffmpeg

        body["checks"] = checks
        body["transcoding"] = (await run_sync(ffmpeg)).as_dict()
    return JsonResponse(body, status=503 if down else 200)
