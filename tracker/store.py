"""The tracker store: the only code that changes a tracker.

``dispatch`` validates nothing about who may act (see ``tracker.permissions``): it locks
the row, runs the kind's pure reducer with the server's time and a random seed stamped
into the action, writes the new state, version and log entry in one transaction, and
broadcasts ``tracker.action.applied`` to ``tracker.<id>`` after commit; users who could
read the tracker before the action and cannot after it (a member left, the party ended)
are told through ``tracker.access``, after commit too. Readers get the state through
``snapshot``, which skips (and logs) queue entries no client can use, left by older
versions (migration 0002 cleans them from the database). Concurrent
dispatches from any number of processes serialise on the row lock (PostgreSQL) or the
write lock (SQLite, IMMEDIATE transactions), so no update is lost.
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from common import groups
from common.bounds import MAX_INT
from common.clients import get_broadcast_client
from common.errors import ERRORS, Conflict, InvalidPayload, NotFound, UnknownAction
from common.process import process_id

from . import access
from .events import ACTION_APPLIED
from .models import Tracker, TrackerAction
from .permissions import lost_readers
from .reducers import PAYLOADS, Action, ActionRejected, get_reducer, validate_payload
from .reducers.playback import keep_entries

logger = logging.getLogger(__name__)

CONTEXT_KEYS = ("via", "connection", "device", "trace_id", "username")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Applied:
    tracker: str
    version: int
    action: str
    payload: dict[str, Any]
    changes: dict[str, Any]
    state: dict[str, Any]

    def event(self) -> dict[str, Any]:
        return {"tracker": self.tracker, "version": self.version, "action": self.action, "payload": self.payload, "changes": self.changes}


def get_or_create(kind: str, *, owner=None, key: str) -> Tracker:
    """The tracker of this kind, owner and key, made with the kind's initial state if new."""
    reducer = get_reducer(kind)
    lookup = {"kind": kind, "key": key, "owner": owner}
    tracker = Tracker.objects.filter(**lookup).first()
    if tracker is not None:
        return tracker
    initial = reducer.initial_state()
    try:
        with transaction.atomic():
            return Tracker.objects.create(**lookup, state=initial, base_state=initial)
    except IntegrityError:  # made by a concurrent caller
        return Tracker.objects.get(**lookup)


def load(tracker_id: Any) -> Tracker:
    try:
        return Tracker.objects.get(pk=tracker_id)
    except (Tracker.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No tracker {tracker_id}.") from None
    except Exception as exc:  # malformed uuid on some backends
        if exc.__class__.__name__ == "ValidationError":
            raise NotFound(f"No tracker {tracker_id}.") from None
        raise


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, allow_nan=False))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes = {key: value for key, value in after.items() if before.get(key, _MISSING) != value}
    for key in before.keys() - after.keys():
        changes[key] = None
    return changes


_MISSING = object()


def dispatch(
    tracker_id: Any,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    actor: int | None = None,
    context: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Applied:
    """Apply one action atomically; raises a ``BusError`` (state and log unchanged) on refusal."""
    payload = _json(payload or {})
    with transaction.atomic():
        try:
            tracker = Tracker.objects.select_for_update().get(pk=tracker_id)
        except Tracker.DoesNotExist:
            raise NotFound(f"No tracker {tracker_id}.") from None
        if expected_version is not None and tracker.version != expected_version:
            raise Conflict(f"The tracker is at version {tracker.version}, not {expected_version}; resync and retry.")
        reducer = get_reducer(tracker.kind)
        if not reducer.accepts(name):
            raise UnknownAction(f"{name} does not apply to a {tracker.kind} tracker.")
        action = Action(name=name, payload=payload, at_ms=now_ms(), actor=actor, seed=random.getrandbits(48))
        try:
            state = _json(reducer.reduce(tracker.state, action))
        except ActionRejected as exc:
            raise ERRORS.get(exc.code, Conflict)(exc.message) from None
        before = tracker.state
        changes = diff(before, state)
        tracker.version += 1
        tracker.state = state
        tracker.save(update_fields=["state", "version", "updated"])
        TrackerAction.objects.create(
            tracker=tracker,
            version=tracker.version,
            name=name,
            payload=payload,
            changes=changes,
            at_ms=action.at_ms,
            actor=actor,
            seed=action.seed,
            context={key: (context or {}).get(key) for key in CONTEXT_KEYS if (context or {}).get(key) is not None},
            origin=process_id(),
        )
        applied = Applied(str(tracker.pk), tracker.version, name, payload, changes, state)
        transaction.on_commit(lambda: publish(applied))
        lost = lost_readers(tracker.kind, before, state)
        for reason in sorted(set(lost.values())):
            access.announce([user for user, why in lost.items() if why == reason], reason)
    return applied


def publish(applied: Applied) -> None:
    """Broadcast an applied action to its subscribers (lossy: clients resync by version)."""
    try:
        get_broadcast_client().broadcast_sync(groups.tracker_group(applied.tracker), ACTION_APPLIED.name, applied.event())
    except Exception:
        logger.exception("could not broadcast %s v%s", applied.tracker, applied.version)


def upgrade(record: TrackerAction) -> Action:
    """A stored action as the reducer of today expects it (schema 1 is current)."""
    if record.schema_version != 1:
        raise ValueError(f"no upgrade from action schema {record.schema_version}")
    return Action(name=record.name, payload=record.payload, at_ms=record.at_ms, actor=record.actor, seed=record.seed)


def replay(tracker: Tracker) -> dict[str, Any]:
    """The state rebuilt from ``base_state`` and the log: equals ``tracker.state``."""
    reducer = get_reducer(tracker.kind)
    state = _json(tracker.base_state)
    for record in tracker.actions.filter(version__gt=tracker.base_version).order_by("version"):
        state = _json(reducer.reduce(state, upgrade(record)))
    return state


def valid_track_id(entry: Any) -> bool:
    """Whether a queue entry is a track id a client can send and read (``common.bounds``)."""
    return type(entry) is int and 1 <= entry <= MAX_INT


def readable_state(tracker: Tracker) -> dict[str, Any]:
    """The tracker's state for readers: a queue entry that is no usable track id is skipped
    and logged, so one bad stored entry never breaks a reader."""
    state = tracker.state
    queue = state.get("queue") if isinstance(state, dict) else None
    if queue is None or (isinstance(queue, list) and all(valid_track_id(entry) for entry in queue)):
        return state
    logger.warning("tracker %s holds queue entries that are no track ids; they are skipped", tracker.pk)
    return keep_entries(state, valid_track_id)


def snapshot(tracker: Tracker) -> dict[str, Any]:
    return {"tracker": str(tracker.pk), "kind": tracker.kind, "version": tracker.version, "state": readable_state(tracker)}


def actions_since(tracker: Tracker, version: int) -> list[dict[str, Any]] | None:
    """The logged actions after ``version``, or None when the log no longer has them all."""
    if version < tracker.base_version or version > tracker.version:
        return None
    records = tracker.actions.filter(version__gt=version).order_by("version")
    rows = [
        {"version": r.version, "action": r.name, "payload": r.payload, "changes": r.changes}
        for r in records
    ]
    if len(rows) != tracker.version - version:
        return None
    return rows


def compact(tracker_id: Any, keep: int) -> int:
    """Fold all but the last ``keep`` actions into ``base_state``; returns how many were removed."""
    with transaction.atomic():
        tracker = Tracker.objects.select_for_update().get(pk=tracker_id)
        cut = tracker.version - keep
        if cut <= tracker.base_version:
            return 0
        reducer = get_reducer(tracker.kind)
        state = _json(tracker.base_state)
        for record in tracker.actions.filter(version__gt=tracker.base_version, version__lte=cut).order_by("version"):
            state = _json(reducer.reduce(state, upgrade(record)))
        removed, _ = tracker.actions.filter(version__lte=cut).delete()
        tracker.base_state = state
        tracker.base_version = cut
        tracker.save(update_fields=["base_state", "base_version"])
        return removed


def validate_action_payload(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Payload check for actions dispatched by server code (clients go through the registry)."""
    if name not in PAYLOADS:
        raise UnknownAction(f"Unknown tracker action {name!r}.")
    try:
        return validate_payload(name, payload)
    except Exception as exc:
        raise InvalidPayload(str(exc)) from None
