"""What the per-user data modules share: argument checks (ids, kinds, integers, text,
flags), the existence checks of tracks and catalogue objects, and user references.

The underscored helpers are private to ``library.userdata``; ``check_tracks``, ``KINDS`` and
``MAX_COMMENT`` are for callers too.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from common.errors import InvalidPayload, NotFound

from ..models import Album, Artist, Track
from ..selectors import tracks_by_ids

KINDS = ("track", "album", "artist")
MODELS = {"track": Track, "album": Album, "artist": Artist}
MAX_COMMENT = 5000
CHUNK = 500  # ids per IN (...) query
# Decorating a long list (more than FEW_IDS ids) with a user's marks: when the user has at
# most WHOLE_SET rows of that kind, they are read whole (one index range) and matched here,
# instead of probing the index once per listed id (a page of 500 songs: 3 probes per id).
FEW_IDS = 50
WHOLE_SET = 2000
MAX_ID = 2**63 - 1  # the largest id either database stores


def _whole(rows, ids: list[int]) -> list | None:
    """All of ``rows`` (the user's rows of one kind), when the list to decorate is long and
    they are at most ``WHOLE_SET``; else None (look them up by id)."""
    if len(ids) <= FEW_IDS:
        return None
    found = list(rows[:WHOLE_SET + 1])
    return found if len(found) <= WHOLE_SET else None


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _int(value: Any, what: str, *, low: int | None = None, high: int | None = None) -> int:
    if type(value) is not int:
        raise InvalidPayload(f"{what} must be an integer, not {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidPayload(f"{what} must be in {bounds}, not {value}.")
    return value


def _id(value: Any, what: str) -> int:
    """An object id (``what``: the kind of object); past the databases' range nothing exists."""
    _int(value, f"{what} id", low=1)
    if value > MAX_ID:
        raise NotFound(f"No {what} with id {value}.")
    return value


def _ids(values: Iterable[Any], what: str = "track") -> list[int]:
    if isinstance(values, (str, bytes, dict)):
        raise InvalidPayload(f"Send a list of {what} ids.")
    return [_id(value, what) for value in values]


def _lookup_ids(values: Iterable[Any], what: str) -> list[int]:
    """Distinct ids to look up, sorted; ids no row can have are left out."""
    if isinstance(values, (str, bytes, dict)):
        raise InvalidPayload(f"Send a list of {what} ids.")
    return sorted({_int(value, f"{what} id", low=1) for value in values if type(value) is not int or value <= MAX_ID})


def _window(offset: Any, size: Any) -> tuple[int, int]:
    """``(offset, size)`` of a page of ids, both integers >= 0."""
    return _int(offset, "offset", low=0), _int(size, "size", low=0)


def _kind(kind: Any) -> str:
    if kind not in KINDS:
        raise InvalidPayload(f"Unknown kind {kind!r}; use one of: {', '.join(KINDS)}.")
    return kind


def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidPayload(f"{what} must be a string.")
    value = value.strip()
    if required and not value:
        raise InvalidPayload(f"{what} must not be empty.")
    if len(value) > limit:
        raise InvalidPayload(f"{what} is too long: at most {limit} characters.")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayload(f"{what} must be true or false.")
    return value


def _check_exists(kind: str, object_id: Any) -> int:
    object_id = _id(object_id, kind)
    if not MODELS[kind].objects.filter(pk=object_id).exists():
        raise NotFound(f"No {kind} with id {object_id}.")
    return object_id


def check_tracks(track_ids: list[int]) -> None:
    """NotFound naming the first missing id, if any of these tracks does not exist.

    Every list of tracks a user adds (playlists, player and party queues) is checked here."""
    wanted = set(track_ids)
    found: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        found.update(Track.objects.playable().filter(pk__in=chunk).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NotFound(f"No track with id {missing[0]}{more}.", details={"missing": missing[:100]})


def _user_ref(user) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}


def _one_track(track_id: int) -> Track:
    track = Track.objects.playable().filter(pk=track_id).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    return track


def _tracks_of(rows) -> dict[int, dict[str, Any]]:
    """``{track id: track dict}`` for the ``track_id`` of each row (plays, bookmarks, ...)."""
    return {track["id"]: track for track in tracks_by_ids(sorted({row.track_id for row in rows}))}
