"""The WebSocket wire envelope, encoded in one place.

- request (client -> server): ``{"id": <client id>, "action": "<name>", "payload": {...}}``
- reply: ``{"id": ..., "ok": true, "result": ..., "time": <ms>}`` or
  ``{"id": ..., "ok": false, "error": {"code": "<code>", "message": "<what to do>"}, "time": <ms>}``
- event (server -> client): ``{"event": "<name>", "payload": {...}, "time": <ms>}``

``time`` is the server's clock (epoch ms) when the frame was built: after the request
arrived for a reply, before it is sent for both. A client bounds its clock offset from
both sides with it (a reply's stamp lies between its request's sending and the reply's
arrival; an event's stamp before its arrival).

The channel layer's own ``type`` key only ever holds the fixed kinds below; the
application's names travel inside.
"""
from __future__ import annotations

import json
import time
from typing import Any

from .errors import BusError

# Channel-layer message kinds (the ``type`` key); never built from client input.
BUS_REQUEST = "bus.request"
BUS_REPLY = "bus.reply"
BUS_EVENT = "bus.event"
# Internal, to a user's group: that user's rights changed; each of their connections
# rechecks what it follows (see ``tracker.access``). Never sent to a client as such.
BUS_ACCESS = "bus.access"


def encode(frame: dict[str, Any]) -> str:
    """JSON text for a frame; raises TypeError on anything not JSON-safe."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def server_time_ms() -> int:
    """This server's clock, epoch milliseconds (the ``time`` of every frame)."""
    return time.time_ns() // 1_000_000


def reply_frame(request_id: Any, result: Any) -> dict[str, Any]:
    return {"id": request_id, "ok": True, "result": result, "time": server_time_ms()}


def error_frame(request_id: Any, error: BusError) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": error.as_dict(), "time": server_time_ms()}


def event_frame(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"event": name, "payload": payload, "time": server_time_ms()}
