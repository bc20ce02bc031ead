"""Events about trackers, declared in the registry."""
from __future__ import annotations

import logging
from typing import Any, Iterable

from common import groups
from common.clients import get_broadcast_client
from common.registry import Schema, registry

logger = logging.getLogger(__name__)


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


class DeviceForgotten(Schema):
    tracker: str


DEVICE_FORGOTTEN = registry.event(
    "player.device.forgotten",
    DeviceForgotten,
    doc=(
        "A device player was forgotten (`player.device.forget`): it is gone with its queue. A client "
        "registered as that device drops its device key and registers again as a new device."
    ),
    audience="the device's owner and the users who controlled it (every connection of theirs)",
)


def announce_forgotten(tracker: str, user_ids: Iterable[Any]) -> None:
    """Send ``player.device.forgotten`` to each user's connections (every bridge)."""
    client = get_broadcast_client()
    for user_id in sorted({int(pk) for pk in user_ids if pk is not None}):
        try:
            client.broadcast_sync(groups.user_group(user_id), DEVICE_FORGOTTEN.name, {"tracker": tracker})
        except Exception:
            logger.exception("could not announce that device %s was forgotten to user %s", tracker, user_id)
