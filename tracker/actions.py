"""Tracker actions on the bus: device players, parties, subscriptions, controllers.

Every reducer action of the ``player`` and ``party`` kinds is a top-level action whose
payload may name its target with ``tracker`` (default: the connection's own device
player) and an ``expected_version``. The ``resolve_tracker`` interceptor loads the
target and checks the caller may act on it before the handler runs.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from common import bounds, interceptors
from common.clients import run_sync
from common.errors import InvalidPayload
from common.messages import Message
from common.registry import ActionSpec, Permission, RunsOn, Schema, registry

from . import events, services, store  # noqa: F401  (events declares tracker.action.applied)
from .permissions import check_act
from .schemas import PAYLOADS

MAX_SUBSCRIPTIONS = 200

TrackerId = bounds.TrackerId
Username = Annotated[str, StringConstraints(min_length=1, max_length=150)]
DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

# Reducer actions with their own service, or dispatched by the server only.
SPECIAL = {"party.session.create", "player.queue.transfer"}
SERVER_ONLY = {
    "player.queue.take",
    "library.scan.begin",
    "library.scan.report",
    "library.scan.complete",
    "library.scan.fail",
    "library.scan.halt",
}
# The orchestrator declares ``library.scan.cancel`` (staff, addressed by library).
ELSEWHERE = {"library.scan.cancel"}
DOCS = {
    "player.device.rename": "Rename a device.",
    "player.queue.replace": "Replace the queue (optionally start at `index`/`position_ms`, playing when `play`).",
    "player.queue.append": "Add tracks at the end of the queue.",
    "player.queue.insert_next": "Add tracks right after the current one.",
    "player.queue.remove": "Remove the queue entry at `index`.",
    "player.queue.move": "Move a queue entry.",
    "player.queue.clear": "Empty the queue and stop.",
    "player.queue.take": "Take over a queue handed off by another device (server only).",
    "player.playback.play": "Play (the current entry, or `index`, from `position_ms`).",
    "player.playback.pause": "Pause at the live position.",
    "player.playback.seek": "Jump to `position_ms` in the current track.",
    "player.playback.next": "Go to the next entry (per shuffle order and repeat).",
    "player.playback.previous": "Restart the track, or go to the previous entry within its first 3 s.",
    "player.playback.stop": "Stop: paused at position 0.",
    "player.volume.set": "Set the volume (0-100).",
    "player.mode.set": "Set shuffle and/or repeat (off, all, one).",
    "player.track.ended": "The current track finished playing: advance per repeat mode.",
    "party.session.join": "Join a listening party.",
    "party.session.leave": "Leave a listening party (the host's role passes on).",
    "party.session.end": "End the party (host only).",
    "party.control.set": "Let members control playback, or not (host only).",
    "library.scan.begin": "A scan of the tracker's library began (server only).",
    "library.scan.report": "A running scan's phase and counters (server only).",
    "library.scan.complete": "The scan finished (server only).",
    "library.scan.fail": "The scan failed, with a message (server only).",
    "library.scan.halt": "The scan stopped after a cancel (server only).",
}


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


for _name, _model in PAYLOADS.items():
    if _name in SPECIAL or _name in ELSEWHERE:
        continue
    registry.action(
        _name,
        _model,
        doc=DOCS.get(_name, _name),
        permission=Permission.SERVER if _name in SERVER_ONLY else Permission.AUTHENTICATED,
        targets_tracker=True,
    )(act)


@registry.action("player.queue.transfer", PAYLOADS["player.queue.transfer"], targets_tracker=True,
                 doc="Hand the queue off to device `to`: it continues at the live position and this one pauses.")
def transfer(message: Message) -> dict:
    return services.transfer(message.context, message.context.tracker, message.payload["to"])


@registry.action("party.session.create", PAYLOADS["party.session.create"], doc="Start a listening party hosted by you.")
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


# -- bridge-side: these change what the connection receives ---------------------------


class DeviceRegister(Schema):
    name: DeviceName


@registry.action(
    "player.device.register",
    DeviceRegister,
    runs_on=RunsOn.BRIDGE,
    doc="Register this connection as a device (same name, same player) and subscribe to its player.",
)
async def register_device(message: Message, connection) -> dict:
    result = await run_sync(services.register_device, message.context, message.payload["name"])
    await connection.join(store.group_name(result["tracker"]))
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
    group = store.group_name(message.payload["tracker"])
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
    await connection.leave(store.group_name(message.payload["tracker"]))
    return {"tracker": message.payload["tracker"], "subscribed": False}
