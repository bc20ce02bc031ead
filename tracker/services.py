"""Tracker services: what every interface (WebSocket, REST, Subsonic, tasks) calls.

Each takes the caller's ``Context``, checks permissions, and changes trackers only
through ``store.dispatch``. Actions that add tracks to a queue name tracks that exist
(``not_found`` otherwise), whichever interface sent them.
"""
from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from common.errors import Forbidden, InvalidPayload, NotFound
from common.messages import Context
from library.userdata.shared import check_tracks

from . import events, store
from .models import Tracker, TrackerAction
from .permissions import check_act, check_read, party_readers

# Actions whose ``tracks`` are added to a queue (``player.queue.take`` copies a queue already checked).
QUEUE_ADDITIONS = frozenset({"player.queue.replace", "player.queue.append", "player.queue.insert_next"})

PLAYER = "player"
PARTY = "party"
SCAN = "library.scan"


def _context_dict(context: Context) -> dict[str, Any]:
    return {"via": context.via, "connection": context.connection, "device": context.device, "trace_id": context.trace_id, "username": context.username}


def act(context: Context, tracker_id: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Dispatch ``name`` to a tracker the caller may act on; the new version and changes."""
    tracker = store.load(tracker_id)
    check_act(context, tracker, name)
    if name in QUEUE_ADDITIONS:
        check_tracks(payload["tracks"])
    applied = store.dispatch(
        tracker.pk, name, payload, actor=context.user_id, context=_context_dict(context), expected_version=context.expected_version
    )
    return {"tracker": applied.tracker, "version": applied.version, "changes": applied.changes}


def device_name(context: Context) -> str:
    """The name of the device the caller's connection registered ("" when none)."""
    if not context.device:
        return ""
    key = Tracker.objects.filter(pk=context.device, owner_id=context.user_id).values_list("key", flat=True).first()
    return key or ""


def register_device(context: Context, name: str, key: str | None = None) -> dict[str, Any]:
    """The caller's player for the device ``key`` (the same key gives the same tracker).

    With a ``key`` (a browser's own random id) the device keeps its tracker, queue and
    volume whatever it is called: ``name`` only names a new device, and a rename is the
    ``player.device.rename`` action. Without one (older clients) the name is the key.
    """
    user = get_user_model().objects.get(pk=context.user_id)
    tracker = store.get_or_create(PLAYER, owner=user, key=key or name)
    named = key is None or tracker.version == 0
    if named and tracker.state.get("device") != name:
        store.dispatch(tracker.pk, "player.device.rename", {"name": name}, actor=context.user_id, context=_context_dict(context))
        tracker.refresh_from_db()
    else:
        Tracker.objects.filter(pk=tracker.pk).update(updated=timezone.now())  # seen now
    return store.snapshot(tracker)


def forget_device(context: Context, tracker_id: str) -> dict[str, Any]:
    """Delete one of the caller's device players (queue, log, controllers) and tell, after
    commit, every connection of its owner and controllers (``player.device.forgotten``):
    a browser still open as that device starts afresh as a new one."""
    tracker = store.load(tracker_id)
    if tracker.kind != PLAYER:
        raise InvalidPayload("Only device players can be forgotten.")
    if tracker.owner_id != context.user_id:
        raise Forbidden("Only the device's owner can forget it.")
    audience = [tracker.owner_id, *tracker.controllers.values_list("pk", flat=True)]
    forgotten = str(tracker.pk)
    with transaction.atomic():
        Tracker.objects.filter(pk=tracker.pk).delete()
        transaction.on_commit(lambda: events.announce_forgotten(forgotten, audience))
    return {"tracker": forgotten, "forgotten": True}


def create_party(context: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """A new listening party hosted by the caller."""
    with transaction.atomic():
        tracker = store.get_or_create(PARTY, owner=None, key=uuid.uuid4().hex)
        store.dispatch(tracker.pk, "party.session.create", payload, actor=context.user_id, context=_context_dict(context))
    tracker.refresh_from_db()
    return store.snapshot(tracker)


def transfer(context: Context, source_id: str, target_id: str, report: dict[str, int] | None = None) -> dict[str, Any]:
    """Hand the queue off: the target takes queue, index and position (the source device's own
    report when it sends one, else the live position), playing or paused as the source was;
    the source pauses."""
    if str(source_id) == str(target_id):
        raise InvalidPayload("Transfer to another device: the source and target are the same tracker.")
    source, target = store.load(source_id), store.load(target_id)
    if source.kind != PLAYER or target.kind != PLAYER:
        raise InvalidPayload("Hand-off works between device players only.")
    check_act(context, source, "player.queue.transfer")
    check_act(context, target, "player.queue.take")
    with transaction.atomic():
        was_playing = bool(store.load(source.pk).state.get("playing"))
        moved = store.dispatch(
            source.pk, "player.queue.transfer", {"to": str(target.pk), **(report or {})}, actor=context.user_id,
            context=_context_dict(context), expected_version=context.expected_version,
        )
        state = moved.state
        if not state["queue"]:
            raise InvalidPayload("The source device has an empty queue: nothing to hand off.")
        take = {
            "queue": state["queue"],
            "index": state["index"],
            "position_ms": state["position_ms"],
            "shuffle": state["shuffle"],
            "repeat": state["repeat"],
            "order": state["order"],
            "playing": was_playing,
        }
        taken = store.dispatch(target.pk, "player.queue.take", take, actor=context.user_id, context=_context_dict(context))
    return {"source": {"tracker": moved.tracker, "version": moved.version}, "target": {"tracker": taken.tracker, "version": taken.version}}


def visible_trackers(context: Context, kind: str | None = None):
    user_id = context.user_id
    query = Tracker.objects.filter(Q(owner_id=user_id) | Q(controllers__pk=user_id) | Q(kind=SCAN))
    trackers = list(query.distinct().order_by("kind", "created"))
    # Parties are shared: visible to their members until they end.
    parties = Tracker.objects.filter(kind=PARTY, owner__isnull=True).order_by("created")
    trackers += [party for party in parties if user_id in party_readers(party.state)]
    if kind:
        trackers = [t for t in trackers if t.kind == kind]
    return trackers


def list_trackers(context: Context, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        {**store.snapshot(t), "key": t.key, "owner": t.owner_id, "mine": t.owner_id == context.user_id}
        for t in visible_trackers(context, kind)
    ]


# Actions that change what a device plays (not its name or volume): what "the latest queue" follows.
QUEUE_CHANGES = ("player.queue.", "player.playback.", "player.track.")


def latest_queue(context: Context) -> dict[str, Any] | None:
    """The caller's own device player whose queue or playback changed last, among those with a
    non-empty queue (whichever client it is: a browser tab, a Subsonic app), as ``list_trackers``
    rows; None when every queue is empty. Changes are read from the action log, else (a log
    compacted away) from the state's ``position_at``."""
    owned = [t for t in Tracker.objects.filter(kind=PLAYER, owner_id=context.user_id) if t.state.get("queue")]
    if not owned:
        return None
    changes = Q()
    for prefix in QUEUE_CHANGES:
        changes |= Q(name__startswith=prefix)
    last = {
        row["tracker"]: (row["at"], row["last"])
        for row in TrackerAction.objects.filter(changes, tracker__in=owned).order_by().values("tracker")
        .annotate(at=Max("at_ms"), last=Max("id"))
    }

    def changed(tracker: Tracker) -> tuple[int, int]:  # (time, log order for changes in the same ms)
        at, order = last.get(tracker.pk, (0, 0))
        return max(at, tracker.state.get("position_at") or 0), order

    latest = max(owned, key=changed)
    return {**store.snapshot(latest), "key": latest.key, "owner": latest.owner_id, "mine": True,
            "changed_ms": changed(latest)[0]}


def get_state(context: Context, tracker_id: str) -> dict[str, Any]:
    tracker = store.load(tracker_id)
    check_read(context, tracker)
    return store.snapshot(tracker)


def check_readable(context: Context, tracker_id: str) -> None:
    """Raise unless the caller may read the tracker (``NotFound``, ``Forbidden``)."""
    check_read(context, store.load(tracker_id))


def subscription(context: Context, tracker_id: str, since_version: int | None) -> dict[str, Any]:
    """What a subscriber needs to be current: the missing actions, or a snapshot."""
    tracker = store.load(tracker_id)
    check_read(context, tracker)
    if since_version is not None:
        actions = store.actions_since(tracker, since_version)
        if actions is not None:
            return {"tracker": str(tracker.pk), "kind": tracker.kind, "version": tracker.version, "actions": actions}
    return {**store.snapshot(tracker), "actions": None}


def _owned(context: Context, tracker_id: str) -> Tracker:
    tracker = store.load(tracker_id)
    if tracker.owner_id is None or tracker.owner_id != context.user_id:
        raise Forbidden("Only the tracker's owner can change who controls it.")
    return tracker


def _user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise NotFound(f"No user {username!r}.") from None


def add_controller(context: Context, tracker_id: str, username: str) -> dict[str, Any]:
    tracker = _owned(context, tracker_id)
    user = _user(username)
    if user.pk == tracker.owner_id:
        raise InvalidPayload("The owner already controls their own devices.")
    tracker.controllers.add(user)
    return {"tracker": str(tracker.pk), "controllers": sorted(tracker.controllers.values_list("username", flat=True))}


def remove_controller(context: Context, tracker_id: str, username: str) -> dict[str, Any]:
    """Stop ``username`` controlling the tracker. An unknown username answers like a user who
    controls nothing (the reply must not tell which usernames exist)."""
    tracker = _owned(context, tracker_id)
    tracker.controllers.remove(*get_user_model().objects.filter(username=username))
    return {"tracker": str(tracker.pk), "controllers": sorted(tracker.controllers.values_list("username", flat=True))}


# -- upkeep, scheduled by the orchestrator ------------------------------------------------


def expire_idle_players(days: int) -> int:
    """Delete device players nobody used for ``days`` days; returns how many."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    _, deleted = Tracker.objects.filter(kind=PLAYER, updated__lt=cutoff).delete()
    return deleted.get(Tracker._meta.label, 0)  # players, not their cascaded log rows


def compact_logs(max_length: int, keep: int | None = None) -> int:
    """Compact every tracker whose log is longer than ``max_length`` down to ``keep`` actions."""
    keep = max_length // 2 if keep is None else keep
    removed = 0
    for tracker in Tracker.objects.all().only("pk", "version", "base_version"):
        if tracker.version - tracker.base_version > max_length:
            removed += store.compact(tracker.pk, keep)
    return removed
