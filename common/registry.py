"""The one registry of every message name: client requests, server events, internal actions.

Each name (``domain.context.action``, lower case) is declared once, with its payload
schema (a pydantic model: strict types, unknown fields rejected), the permission it
needs, where its handler runs and a one-line doc. The router refuses names that are not
here, and every event the server emits is checked against its schema before it leaves.

Declarations live in each app's ``actions.py`` (imported when Django starts)::

    @registry.action("system.health.ping", Empty, doc="Check that a worker answers.")
    def ping(message): ...

    WELCOME = registry.event("system.session.welcome", Welcome, doc="...")
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InvalidPayload, UnknownAction

# ``domain.context.action``; a domain acting on itself may drop the context
# (``tracker.subscribe``, ``tracker.list``).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,2}$")


class Schema(BaseModel):
    """Base for payload schemas: strict types, unknown fields rejected, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Empty(Schema):
    """A payload with no fields."""


class Permission(str, enum.Enum):
    AUTHENTICATED = "authenticated"  # any logged-in user
    STAFF = "staff"  # staff users only
    SERVER = "server"  # never from a client: dispatched by the server itself


class RunsOn(str, enum.Enum):
    WORKER = "worker"  # stateless handler: inline in embedded mode, a runworker process when scaled
    BRIDGE = "bridge"  # needs the caller's connection (subscriptions): runs in the bridge


@dataclass(frozen=True)
class ActionSpec:
    name: str
    payload: type[BaseModel]
    handler: Callable[..., Any] | None
    permission: Permission
    runs_on: RunsOn
    doc: str
    targets_tracker: bool = False  # payload may name a ``tracker`` and an ``expected_version``

    @property
    def client_callable(self) -> bool:
        return self.permission is not Permission.SERVER


@dataclass(frozen=True)
class EventSpec:
    name: str
    payload: type[BaseModel]
    doc: str
    audience: str  # who receives it, for the protocol document


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ValueError(f"{name!r} is not a domain.context.action name")


def _validate(model: type[BaseModel], raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidPayload(f"The payload of {what} must be a JSON object.")
    try:
        validated = model.model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(part) for part in err["loc"]) or "(payload)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = details[0]
        raise InvalidPayload(f"Invalid payload for {what}: {first['field']}: {first['problem']}.", details=details) from None
    return validated.model_dump(mode="json", exclude_unset=True)


class Registry:
    def __init__(self) -> None:
        self.actions: dict[str, ActionSpec] = {}
        self.events: dict[str, EventSpec] = {}

    def _check_unique(self, name: str) -> None:
        _check_name(name)
        if name in self.actions or name in self.events:
            raise ValueError(f"{name!r} is declared twice")

    def action(
        self,
        name: str,
        payload: type[BaseModel] = Empty,
        *,
        doc: str,
        permission: Permission = Permission.AUTHENTICATED,
        runs_on: RunsOn = RunsOn.WORKER,
        targets_tracker: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator declaring an action and its handler."""

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self._check_unique(name)
            self.actions[name] = ActionSpec(name, payload, handler, permission, runs_on, doc, targets_tracker)
            return handler

        return register

    def event(self, name: str, payload: type[BaseModel], *, doc: str, audience: str) -> EventSpec:
        """Declare an event the server sends; returns its spec (use ``spec.name`` in code)."""
        self._check_unique(name)
        spec = EventSpec(name, payload, doc, audience)
        self.events[name] = spec
        return spec

    def get_action(self, name: str) -> ActionSpec:
        try:
            return self.actions[name]
        except KeyError:
            raise UnknownAction(f"Unknown action {name!r}; see the protocol document for the list.") from None

    def validate_payload(self, spec: ActionSpec, raw: Any) -> dict[str, Any]:
        return _validate(spec.payload, raw, spec.name)

    def validate_event(self, name: str, payload: Any) -> dict[str, Any]:
        """Check an outgoing event; a mismatch is a server bug, so it raises."""
        spec = self.events.get(name)
        if spec is None:
            raise LookupError(f"event {name!r} is not declared in the registry")
        return _validate(spec.payload, payload, f"event {name}")


registry = Registry()
