"""Payload schemas of every tracker action, keyed by action name.

Strict types, unknown fields rejected, explicit ``null`` refused (an optional field is
either absent or a real value). Ids, counts and tracker ids are ``common.bounds`` types.
The message-level ``tracker`` and ``expected_version`` fields are handled by the router,
not here.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from common import bounds

MAX_TRACKS = 10_000  # longest track id list in a payload, and longest queue
MAX_POSITION_MS = 24 * 60 * 60 * 1000

TrackId: TypeAlias = bounds.Id
TrackList: TypeAlias = Annotated[list[TrackId], Field(min_length=1, max_length=MAX_TRACKS)]
Index: TypeAlias = Annotated[int, Field(ge=0, lt=MAX_TRACKS)]
PositionMs: TypeAlias = Annotated[int, Field(ge=0, le=MAX_POSITION_MS)]
Count: TypeAlias = bounds.Count
Name: TypeAlias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TrackerId: TypeAlias = bounds.TrackerId
Message: TypeAlias = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Repeat: TypeAlias = Literal["off", "all", "one"]
Phase: TypeAlias = Literal["walking", "parsing", "writing", "cleaning"]


class Payload(BaseModel):
    """Base of every payload: strict, closed, no explicit nulls."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="after")
    def _no_explicit_null(self) -> "Payload":
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{field} may be omitted but not null")
        return self


class Empty(Payload):
    """No fields."""


# -- player / party: device, queue, playback ---------------------------------------


class DeviceRename(Payload):
    name: Name


class QueueReplace(Payload):
    tracks: TrackList
    index: Index | None = None  # default 0
    position_ms: PositionMs | None = None  # default 0
    play: bool | None = None  # default False


class QueueTracks(Payload):
    tracks: TrackList


class QueueRemove(Payload):
    index: Index


class QueueMove(Payload):
    from_index: Index
    to_index: Index


class QueueTransfer(Payload):
    to: TrackerId


class QueueTake(Payload):
    queue: TrackList
    index: Index
    position_ms: PositionMs
    shuffle: bool
    repeat: Repeat
    order: Annotated[list[Index], Field(max_length=MAX_TRACKS)] | None = None


class PlaybackPlay(Payload):
    index: Index | None = None
    position_ms: PositionMs | None = None


class PlaybackSeek(Payload):
    position_ms: PositionMs


class VolumeSet(Payload):
    volume: Annotated[int, Field(ge=0, le=100)]


class ModeSet(Payload):
    shuffle: bool | None = None
    repeat: Repeat | None = None

    @model_validator(mode="after")
    def _something_set(self) -> "ModeSet":
        if not self.model_fields_set:
            raise ValueError("give shuffle, repeat or both")
        return self


# -- party ---------------------------------------------------------------------------


class SessionCreate(Payload):
    name: Name | None = None


class ControlSet(Payload):
    members_control: bool


# -- library.scan --------------------------------------------------------------------


class ScanStarted(Payload):
    scan_id: bounds.Id
    trigger: Name


class ScanProgressed(Payload):
    phase: Phase | None = None
    files_seen: Count | None = None
    parsed: Count | None = None
    added: Count | None = None
    updated: Count | None = None
    removed: Count | None = None
    unchanged: Count | None = None
    errors: Count | None = None


class ScanCompleted(Payload):
    message: Message | None = None


class ScanFailed(Payload):
    message: Message


PAYLOADS: dict[str, type[BaseModel]] = {
    "player.device.rename": DeviceRename,
    "player.queue.replace": QueueReplace,
    "player.queue.append": QueueTracks,
    "player.queue.insert_next": QueueTracks,
    "player.queue.remove": QueueRemove,
    "player.queue.move": QueueMove,
    "player.queue.clear": Empty,
    "player.queue.transfer": QueueTransfer,
    "player.queue.take": QueueTake,
    "player.playback.play": PlaybackPlay,
    "player.playback.pause": Empty,
    "player.playback.seek": PlaybackSeek,
    "player.playback.next": Empty,
    "player.playback.previous": Empty,
    "player.playback.stop": Empty,
    "player.volume.set": VolumeSet,
    "player.mode.set": ModeSet,
    "player.track.ended": Empty,
    "party.session.create": SessionCreate,
    "party.session.join": Empty,
    "party.session.leave": Empty,
    "party.session.end": Empty,
    "party.control.set": ControlSet,
    "library.scan.begin": ScanStarted,
    "library.scan.report": ScanProgressed,
    "library.scan.cancel": Empty,
    "library.scan.complete": ScanCompleted,
    "library.scan.fail": ScanFailed,
    "library.scan.halt": Empty,
}


def validate_payload(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The validated payload of action ``name`` as a plain dict (absent optionals stay absent).

    Raises ``KeyError`` for an unknown name and ``pydantic.ValidationError`` for a bad payload.
    """
    try:
        model = PAYLOADS[name]
    except KeyError:
        raise KeyError(f"unknown tracker action {name!r}") from None
    return model.model_validate(raw).model_dump(mode="json", exclude_unset=True)
