"""``Message`` = payload (what the caller asked) + context (who, from where, when).

Clients send only the payload; the bridge builds the context. Both travel over the
channel layer as plain JSON-safe dicts (``to_wire`` / ``from_wire``).
"""
from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Context:
    user_id: int | None = None
    username: str = ""
    is_staff: bool = False
    via: str = "server"  # ws | rest | subsonic | server
    connection: str | None = None  # the bridge connection's id
    reply_channel: str | None = None  # the connection's channel-layer name
    device: str | None = None  # the caller's device name, when it registered one
    tracker: str | None = None  # the target tracker's id, resolved by an interceptor
    expected_version: int | None = None
    trace_id: str = field(default_factory=new_id)
    received_at: float = field(default_factory=time.time)

    def replace(self, **changes: Any) -> "Context":
        return dataclasses.replace(self, **changes)


SERVER_CONTEXT_FIELDS = frozenset(f.name for f in dataclasses.fields(Context))


@dataclass(frozen=True)
class Message:
    action: str
    payload: dict[str, Any]
    context: Context

    def with_context(self, **changes: Any) -> "Message":
        return dataclasses.replace(self, context=self.context.replace(**changes))

    def to_wire(self) -> dict[str, Any]:
        return {"action": self.action, "payload": self.payload, "context": dataclasses.asdict(self.context)}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "Message":
        context = {k: v for k, v in data.get("context", {}).items() if k in SERVER_CONTEXT_FIELDS}
        return cls(action=data["action"], payload=dict(data.get("payload") or {}), context=Context(**context))
