"""Events about trackers, declared in the registry."""
from __future__ import annotations

from typing import Any

from common.registry import Schema, registry


class ActionApplied(Schema):
    tracker: str
    version: int
    action: str
    payload: dict[str, Any]
    changes: dict[str, Any]


ACTION_APPLIED = registry.event(
    "tracker.action.applied",
    ActionApplied,
    doc=(
        "A tracker changed: apply `changes` (new values of the top-level state keys that changed) "
        "to the state at `version - 1`. On a gap, resubscribe with `since_version`."
    ),
    audience="subscribers of the tracker (group tracker.<id>)",
)
