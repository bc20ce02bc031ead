"""The payload schemas of the tracker actions (each action names its own in its
``TrackerAction`` declaration, next to its reducer).

Strict types, unknown fields rejected, explicit ``null`` refused (an optional field is
either absent or a real value). Ids, counts and tracker ids are ``common.bounds`` types.
The message-level ``tracker`` and ``expected_version`` fields are handled by the router,
not here.
"""
from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from common import bounds

MAX_TRACKS = 10_000  # longest track id list in a payload, and longest queue
MAX_POSITION_MS = 24 * 60 * 60 * 1000

TrackId: TypeAlias = bounds.Id
TrackList: TypeAlias = Annotated[list[TrackId], Field(min_length=1, max_length=MAX_TRACKS)]
Index: TypeAlias = Annotated[int, Field(ge=0, lt=MAX_TRACKS)]
PositionMs: TypeAlias = Annotated[int, Field(ge=0, le=MAX_POSITION_MS)]
Count: TypeAlias = bounds.Count
EpochMs: TypeAlias = bounds.Count  # a server time, epoch milliseconds
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
    # position_ms is where a device's audio was at this server time (a party taking over
    # what the host plays): the queue plays on from there.
    position_at: EpochMs | None = None


class QueueTracks(Payload):
    tracks: TrackList


class QueueRemove(Payload):
    index: Index


class QueueMove(Payload):
    from_index: Index
    to_index: Index


class QueueTransfer(Payload):
    to: TrackerId
    # Sent by the source device itself: where its audio was (position_ms) at server time
    # position_at (its clock estimate). The hand-off then continues from there.
    position_ms: PositionMs | None = None
    position_at: EpochMs | None = None


class QueueTake(Payload):
    queue: TrackList
    index: Index
    position_ms: PositionMs
    shuffle: bool
    repeat: Repeat
    order: Annotated[list[Index], Field(max_length=MAX_TRACKS)] | None = None
    playing: bool = True  # a paused source hands off paused


class PlaybackPlay(Payload):
    index: Index | None = None
    position_ms: PositionMs | None = None


class PlaybackSeek(Payload):
    position_ms: PositionMs


class VolumeSet(Payload):
    volume: Annotated[int, Field(ge=0, le=100)]


class QualitySet(Payload):
    """``original``: the file as it is, transcoded only when this device cannot play it;
    ``high``: at most 320 kbit/s; ``mobile``: at most 96 kbit/s."""

    quality: Literal["original", "high", "mobile"]


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
