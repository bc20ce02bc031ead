"""Reducer building blocks: the action record, the rejection error, the declaration of a
tracker action and the reducer type.

A reducer is pure: ``reduce(state, action)`` depends only on its arguments (time and
randomness come from ``action.at_ms`` and ``action.seed``), never mutates ``state`` and
returns a new JSON-safe dict.

Each tracker action is declared once, as a ``TrackerAction`` next to its handler in the
kind's module; the payload table, the bus actions (``tracker.actions``), their docs and
flags, and the scan lifecycle events (``orchestrator.actions``) are derived from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Mapping, TypeAlias

from pydantic import BaseModel

State: TypeAlias = dict[str, Any]
Handler: TypeAlias = Callable[[State, "Action"], State]
RejectionCode: TypeAlias = Literal["conflict", "invalid_payload", "forbidden"]


@dataclass(frozen=True)
class Action:
    """One validated action, stamped by the store."""

    name: str  # e.g. "player.playback.pause"
    payload: Mapping[str, Any]  # validated against its declared schema (JSON-safe values)
    at_ms: int  # server time (epoch ms), stamped by the store
    actor: int | None  # user id who sent it; None = the server itself
    seed: int = 0  # random seed stamped by the store (for shuffle)


class ActionRejected(Exception):
    """An impossible transition; `code` is 'conflict' (state does not allow it) or 'invalid_payload' (payload impossible for this state, e.g. index out of range) or 'forbidden'."""

    def __init__(self, message: str, code: RejectionCode | str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"ActionRejected({self.message!r}, code={self.code!r})"


def clone(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts and lists copied, scalars shared)."""
    if isinstance(value, dict):
        return {key: clone(item) if isinstance(item, (dict, list)) else item for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) if isinstance(item, (dict, list)) else item for item in value]
    return value


@dataclass(frozen=True)
class TrackerAction:
    """The one declaration of a tracker action."""

    name: str
    payload: type[BaseModel]  # the payload schema (``tracker.schemas``)
    handler: Handler
    doc: str  # one line for the protocol document
    # Dispatched by the server only: clients may not send it.
    server_only: bool = False
    # The bus action of this name has a handler of its own (``tracker.actions`` for a
    # transfer or a new party, ``orchestrator.actions`` for a scan cancel by library)
    # instead of the generic "act on the target tracker".
    own_bus_action: bool = False
    # The staff event a scan lifecycle action announces (``orchestrator.actions``).
    staff_event: str | None = None

    def wrapped(self, decorator: Callable[[Handler], Handler]) -> "TrackerAction":
        """The same action with its handler wrapped (a kind's own checks around shared logic)."""
        return replace(self, handler=decorator(self.handler))


@dataclass(frozen=True)
class Reducer:
    """A tracker kind: its initial state and the actions it accepts (``handlers`` is their dispatch table)."""

    kind: str
    initial_state: Callable[[], State]
    actions: tuple[TrackerAction, ...]
    handlers: Mapping[str, Handler] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "handlers", {action.name: action.handler for action in self.actions})

    def reduce(self, state: State, action: Action) -> State:
        """The state after ``action``; an unknown name returns ``state`` itself.

        Raises ``ActionRejected`` for an impossible transition. The result shares no
        mutable part with ``state``.
        """
        handler = self.handlers.get(action.name)
        if handler is None:
            return state
        return handler(clone(state), action)

    def accepts(self, name: str) -> bool:
        """Whether this kind handles the action ``name``."""
        return name in self.handlers
