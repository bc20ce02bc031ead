"""The registry of tracker kinds: ``REDUCERS[kind]`` is that kind's pure reducer."""
from __future__ import annotations

from .base import Action, ActionRejected, Reducer
from .party import PARTY
from .player import PLAYER
from .scan import SCAN

REDUCERS: dict[str, Reducer] = {reducer.kind: reducer for reducer in (PLAYER, PARTY, SCAN)}


def get_reducer(kind: str) -> Reducer:
    """The reducer of ``kind``; ``KeyError`` for an unknown kind."""
    try:
        return REDUCERS[kind]
    except KeyError:
        raise KeyError(f"unknown tracker kind {kind!r}") from None


__all__ = ["REDUCERS", "Action", "ActionRejected", "Reducer", "get_reducer"]
