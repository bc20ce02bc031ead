"""Kind ``player``: one device's queue and playback.

Besides the shared playback fields (see ``playback``): ``volume`` (0..100), ``quality``
(``original``, ``high`` or ``mobile``: what the device asks the server to stream, see
``schemas.QualitySet``), ``device`` (its name) and ``transferred_to`` (the tracker id the queue was handed to; cleared as
soon as this player plays again).
"""
from __future__ import annotations

from functools import wraps

from tracker import schemas

from .base import Action, ActionRejected, Handler, Reducer, State, TrackerAction
from .playback import PLAYBACK_ACTIONS, initial_playback, paused, reported_position

KIND = "player"
DEFAULT_DEVICE_NAME = "Player"
DEFAULT_QUALITY = "original"


def initial_state() -> State:
    """An empty, paused player at full volume."""
    return {**initial_playback(), "volume": 100, "quality": DEFAULT_QUALITY, "device": DEFAULT_DEVICE_NAME,
            "transferred_to": None}


def device_rename(state: State, action: Action) -> State:
    """A new device name."""
    return {**state, "device": action.payload["name"]}


def volume_set(state: State, action: Action) -> State:
    """A new volume (0..100)."""
    return {**state, "volume": action.payload["volume"]}


def quality_set(state: State, action: Action) -> State:
    """A new stream quality (``original``, ``high`` or ``mobile``)."""
    return {**state, "quality": action.payload["quality"]}


def queue_transfer(state: State, action: Action) -> State:
    """Hand the queue to tracker ``to``: this player pauses, where its audio actually was
    when the device reports it, and remembers the target."""
    if not state["queue"]:
        raise ActionRejected("There is nothing to transfer: the queue is empty.", "conflict")
    result = {**paused(state, action.at_ms), "transferred_to": action.payload["to"]}
    position = reported_position(action, running=state["playing"])
    return result if position is None else {**result, "position_ms": position}


def _local(handler: Handler) -> Handler:
    """``handler``, then: a player that plays here again is no longer transferred."""

    @wraps(handler)
    def handle(state: State, action: Action) -> State:
        result = handler(state, action)
        return {**result, "transferred_to": None} if result["playing"] else result

    return handle


ACTIONS: tuple[TrackerAction, ...] = (
    *(action.wrapped(_local) for action in PLAYBACK_ACTIONS),
    TrackerAction("player.device.rename", schemas.DeviceRename, device_rename, "Rename a device."),
    TrackerAction("player.volume.set", schemas.VolumeSet, volume_set, "Set the volume (0-100)."),
    TrackerAction("player.quality.set", schemas.QualitySet, quality_set,
                  "Set what the device streams: `original` (transcoded only when it cannot play the file), "
                  "`high` (at most 320 kbit/s) or `mobile` (at most 96 kbit/s)."),
    TrackerAction("player.queue.transfer", schemas.QueueTransfer, queue_transfer,
                  "Hand the queue off to device `to`: it continues, playing or paused as this one was, from "
                  "`position_ms` at server time `position_at` when this device reports where its audio is (else from "
                  "the live position); this one pauses.",
                  own_bus_action=True),
)

PLAYER = Reducer(kind=KIND, initial_state=initial_state, actions=ACTIONS)
