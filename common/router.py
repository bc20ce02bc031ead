"""The router: turns a client frame into a validated ``Message`` and runs handlers.

``prepare`` runs at the edge (the bridge): envelope, legacy names, registry lookup,
payload schema, edge interceptors. ``execute`` runs where the handler lives (inline or in
a worker): handler interceptors, then the handler. ``execute_safely`` is the boundary
that turns every failure into an error reply, so a bad message never kills a worker.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from . import interceptors
from .bounds import MAX_INT, is_tracker_id
from .errors import BusError, Internal, InvalidPayload
from .legacy import rewrite
from .messages import Context, Message
from .registry import ActionSpec, registry

logger = logging.getLogger(__name__)

TRACKER_FIELDS = ("tracker", "expected_version")


def prepare(action: str, payload: Any, context: Context) -> tuple[Message, ActionSpec]:
    """Validate a request at the edge; raises a ``BusError`` with the right code."""
    name = rewrite(action)
    spec = registry.get_action(name)
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidPayload(f"The payload of {name} must be a JSON object.")
    if spec.targets_tracker:
        payload = dict(payload)
        tracker = payload.pop("tracker", None)
        expected = payload.pop("expected_version", None)
        if tracker is not None:
            if not is_tracker_id(tracker):
                raise InvalidPayload(f"Invalid payload for {name}: tracker: must be a tracker id (a UUID).")
            tracker = tracker.lower()
        if expected is not None and (type(expected) is not int or not 0 <= expected <= MAX_INT):
            raise InvalidPayload(f"Invalid payload for {name}: expected_version: must be an integer from 0 to {MAX_INT}.")
        context = context.replace(tracker=tracker, expected_version=expected)
    validated = registry.validate_payload(spec, payload)
    message = Message(name, validated, context)
    return interceptors.run(interceptors.EDGE, message, spec), spec


def execute(message: Message) -> Any:
    """Run a worker-side handler (synchronously; may use the ORM)."""
    spec = registry.get_action(message.action)
    message = interceptors.run(interceptors.HANDLER, message, spec)
    started = time.perf_counter()
    result = spec.handler(message)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if elapsed_ms > 500:
        logger.warning("slow handler %s took %.0f ms (trace %s)", message.action, elapsed_ms, message.context.trace_id)
    return result


def execute_safely(message: Message) -> dict[str, Any]:
    """``execute`` with every failure caught: ``{"ok": True, "result"}`` or ``{"ok": False, "error"}``."""
    try:
        return {"ok": True, "result": execute(message)}
    except BusError as exc:
        return {"ok": False, "error": exc.as_dict()}
    except Exception:
        logger.exception("handler for %s failed (trace %s)", message.action, message.context.trace_id)
        return {"ok": False, "error": Internal().as_dict()}
