"""Tracker actions on the bus: device players, parties, subscriptions, controllers, and
``play.record`` (a play on this connection's device).

Every reducer action (declared in ``tracker.reducers``) is a top-level action whose
payload may name its target with ``tracker`` (default: the connection's own device
player) and an ``expected_version``; its schema, doc and permission come from its
declaration. The ``resolve_tracker`` interceptor loads the target and checks the caller
may act on it before the handler runs.
"""
from __future__ import annotations

from typing import Annotated

from django.contrib.auth import get_user_model
from pydantic import StringConstraints

from common import bounds, groups, interceptors
from common.clients import run_sync
from common.errors import InvalidPayload, Unauthenticated
from common.messages import Message
from common.registry import ActionSpec, Permission, RunsOn, Schema, registry
from library.userdata import plays

from . import events, services, store  # noqa: F401  (events declares tracker.action.applied)
from .permissions import check_act
from .reducers import ACTIONS

MAX_SUBSCRIPTIONS = 200

TrackerId = bounds.TrackerId
Username = Annotated[str, StringConstraints(min_length=1, max_length=150)]
DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
DeviceKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]  # per owner


@interceptors.handler
def resolve_tracker(message: Message, spec: ActionSpec) -> Message:
    """Put the target tracker's id in the context after checking the caller may act on it."""
    if not spec.targets_tracker:
        return message
    target = message.context.tracker or message.context.device
    if target is None:
        raise InvalidPayload("Name a tracker, or register this connection's device first (player.device.register).")
    tracker = store.load(target)
    check_act(message.context, tracker, message.action)
    return message.with_context(tracker=str(tracker.pk))


def act(message: Message) -> dict:
    return services.act(message.context, message.context.tracker, message.action, message.payload)


# Every reducer action is a bus action acting on its target tracker, unless it has a
# handler of its own (below, or in orchestrator.actions).
for _action in ACTIONS.values():
    if not _action.own_bus_action:
        registry.action(
            _action.name,
            _action.payload,
            doc=_action.doc,
            permission=Permission.SERVER if _action.server_only else Permission.AUTHENTICATED,
            targets_tracker=True,
        )(act)

_TRANSFER = ACTIONS["player.queue.transfer"]
_CREATE_PARTY = ACTIONS["party.session.create"]


@registry.action(_TRANSFER.name, _TRANSFER.payload, targets_tracker=True, doc=_TRANSFER.doc)
def transfer(message: Message) -> dict:
    report = {key: message.payload[key] for key in ("position_ms", "position_at") if message.payload.get(key) is not None}
    return services.transfer(message.context, message.context.tracker, message.payload["to"], report)


@registry.action(_CREATE_PARTY.name, _CREATE_PARTY.payload, doc=_CREATE_PARTY.doc)
def create_party(message: Message) -> dict:
    return services.create_party(message.context, message.payload)


class TrackerList(Schema):
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


@registry.action("tracker.list", TrackerList, doc="The trackers you can see (your devices, devices you control, your parties, scans).")
def list_trackers(message: Message) -> list:
    return services.list_trackers(message.context, message.payload.get("kind"))


class TrackerRef(Schema):
    tracker: TrackerId


@registry.action("tracker.state.get", TrackerRef, doc="A tracker's current state and version.")
def get_state(message: Message) -> dict:
    return services.get_state(message.context, message.payload["tracker"])


class ControllerChange(Schema):
    tracker: TrackerId
    user: Username


@registry.action("tracker.controllers.add", ControllerChange, doc="Let another user (by username) control one of your devices.")
def add_controller(message: Message) -> dict:
    return services.add_controller(message.context, message.payload["tracker"], message.payload["user"])


@registry.action("tracker.controllers.remove", ControllerChange, doc="Stop letting a user control one of your devices.")
def remove_controller(message: Message) -> dict:
    return services.remove_controller(message.context, message.payload["tracker"], message.payload["user"])


@registry.action(
    "player.device.forget",
    TrackerRef,
    doc="Forget one of your devices: its player (queue, volume) is deleted and player.device.forgotten is sent.",
)
def forget_device(message: Message) -> dict:
    return services.forget_device(message.context, message.payload["tracker"])


# -- plays: per-user data (library.userdata), by default from this connection's device ---


class PlayRecord(Schema):
    track: bounds.Id
    submission: bool = True
    device: Annotated[str, StringConstraints(strip_whitespace=True, max_length=plays.MAX_DEVICE)] | None = None
    play_id: bounds.PlayId | None = None


@registry.action(
    "play.record",
    PlayRecord,
    doc="Record a finished play of `track` (a scrobble), or with `submission`: false that this device is playing it now;"
    " a `play_id` (a UUID drawn when the track started) is recorded once.",
)
def play_record(message: Message) -> dict:
    user = get_user_model().objects.filter(pk=message.context.user_id, is_active=True).first()
    if user is None:
        raise Unauthenticated()
    device = message.payload.get("device")
    if device is None:
        device = services.device_name(message.context)[: plays.MAX_DEVICE]
    return plays.play_record(user, message.payload["track"], device=device,
                             submission=message.payload.get("submission", True), play_id=message.payload.get("play_id"))


# -- bridge-side: these change what the connection receives ---------------------------


class DeviceRegister(Schema):
    name: DeviceName
    key: DeviceKey | None = None


@registry.action(
    "player.device.register",
    DeviceRegister,
    runs_on=RunsOn.BRIDGE,
    doc=(
        "Register this connection as a device and subscribe to its player. With `key` (the browser's own "
        "random id) the same key gives the same player, and `name` names a new one only (rename with "
        "player.device.rename); without it the same name gives the same player."
    ),
)
async def register_device(message: Message, connection) -> dict:
    result = await run_sync(services.register_device, message.context, message.payload["name"], message.payload.get("key"))
    await connection.join(groups.tracker_group(result["tracker"]))
    connection.device = result["tracker"]
    return result


class Subscribe(Schema):
    tracker: TrackerId
    since_version: bounds.Count | None = None


@registry.action(
    "tracker.subscribe",
    Subscribe,
    runs_on=RunsOn.BRIDGE,
    doc=(
        "Receive a tracker's changes as tracker.action.applied events. With `since_version`: the actions "
        "after it (`actions`), or a snapshot (`state`, `actions` null) when the log no longer has them."
    ),
)
async def subscribe(message: Message, connection) -> dict:
    group = groups.tracker_group(message.payload["tracker"])
    if group not in connection.joined and len(connection.joined) >= MAX_SUBSCRIPTIONS:
        raise InvalidPayload(f"A connection may follow at most {MAX_SUBSCRIPTIONS} trackers; unsubscribe first.")
    # Check, then join, then read: a caller who may not read never joins, not even for a
    # moment; an action committed between join and read arrives twice (ignore versions you
    # have), never not at all. The lock keeps an access recheck (tracker.access) from
    # running between the check and the join.
    async with connection.access_lock:
        await run_sync(services.check_readable, message.context, message.payload["tracker"])
        already = group in connection.joined
        await connection.join(group)
        try:
            return await run_sync(services.subscription, message.context, message.payload["tracker"],
                                  message.payload.get("since_version"))
        except Exception:
            if not already:
                await connection.leave(group)
            raise


@registry.action("tracker.unsubscribe", TrackerRef, runs_on=RunsOn.BRIDGE, doc="Stop receiving a tracker's changes.")
async def unsubscribe(message: Message, connection) -> dict:
    await connection.leave(groups.tracker_group(message.payload["tracker"]))
    return {"tracker": message.payload["tracker"], "subscribed": False}
