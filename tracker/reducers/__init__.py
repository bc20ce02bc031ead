"""The registry of tracker kinds and of their actions.

``REDUCERS[kind]`` is that kind's pure reducer; ``ACTIONS[name]`` the one declaration of
a tracker action (shared queue and playback actions are declared once, in ``playback``,
and accepted by players and parties alike); ``PAYLOADS[name]`` its payload schema.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .base import Action, ActionRejected, Reducer, TrackerAction
from .party import PARTY
from .player import PLAYER
from .scan import SCAN

REDUCERS: dict[str, Reducer] = {reducer.kind: reducer for reducer in (PLAYER, PARTY, SCAN)}

ACTIONS: dict[str, TrackerAction] = {}
for _reducer in REDUCERS.values():
    for _action in _reducer.actions:
        ACTIONS.setdefault(_action.name, _action)

PAYLOADS: dict[str, type[BaseModel]] = {name: action.payload for name, action in ACTIONS.items()}


def get_reducer(kind: str) -> Reducer:
    """The reducer of ``kind``; ``KeyError`` for an unknown kind."""
    try:
        return REDUCERS[kind]
    except KeyError:
        raise KeyError(f"unknown tracker kind {kind!r}") from None


def validate_payload(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The validated payload of action ``name`` as a plain dict (absent optionals stay absent).

    Raises ``KeyError`` for an unknown name and ``pydantic.ValidationError`` for a bad payload.
    """
    try:
        model = PAYLOADS[name]
    except KeyError:
        raise KeyError(f"unknown tracker action {name!r}") from None
    return model.model_validate(raw).model_dump(mode="json", exclude_unset=True)


__all__ = ["ACTIONS", "PAYLOADS", "REDUCERS", "Action", "ActionRejected", "Reducer", "TrackerAction", "get_reducer",
           "validate_payload"]
