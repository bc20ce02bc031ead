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


class SubscriptionRevoked(Schema):
    tracker: str
    reason: str


SUBSCRIPTION_REVOKED = registry.event(
    "tracker.subscription.revoked",
    SubscriptionRevoked,
    doc=(
        "You may no longer read this tracker, so this connection stopped following it and gets none of its "
        "events: `reason` `controller_removed` (its owner removed you), `party_left`, `party_ended` or "
        "`account_changed` (your account was deactivated or deleted; the connection then closes with 4401)."
    ),
    audience="every connection of the user concerned that followed the tracker",
)
