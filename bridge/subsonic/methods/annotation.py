"""Annotation: star, unstar, setRating, scrobble (plays and "now playing")."""
from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from library.userdata import favourites, plays, ratings

from .. import ids
from ..responses import InvalidParameter, MissingParameter
from . import Call, method

KIND_NAMES = {ids.TRACK: "track", ids.ALBUM: "album", ids.ARTIST: "artist"}


def _targets(call: Call) -> list[tuple[str, int]]:
    """``(kind, id)`` of every ``id`` (any kind; a bare number is a song), ``albumId`` and ``artistId``."""
    targets = []
    for value in call.params.getlist("id"):
        kind, pk = ids.parse_any(value, default=ids.TRACK)
        if kind not in KIND_NAMES:
            raise ids.NotFoundError(f"{value!r} cannot be starred: star songs, albums and artists.")
        targets.append((KIND_NAMES[kind], pk))
    targets += [("album", ids.parse(value, ids.ALBUM)) for value in call.params.getlist("albumId")]
    targets += [("artist", ids.parse(value, ids.ARTIST)) for value in call.params.getlist("artistId")]
    if not targets:
        raise MissingParameter("id, albumId or artistId")
    return targets


def _star(call: Call, starred: bool) -> dict[str, Any]:
    targets = _targets(call)
    with transaction.atomic():  # all or nothing: an unknown id changes nothing
        for kind, pk in targets:
            favourites.favourite_set(call.user, kind, pk, starred)
    return {}


@method("star")
def star(call: Call) -> dict[str, Any]:
    return _star(call, True)


@method("unstar")
def unstar(call: Call) -> dict[str, Any]:
    return _star(call, False)


@method("setRating")
def set_rating(call: Call) -> dict[str, Any]:
    """Rate a song, album or artist 1..5; 0 removes the rating."""
    kind, pk = ids.parse_any(call.params.required("id"), default=ids.TRACK)
    if kind not in KIND_NAMES:
        raise ids.NotFoundError(f"{call.params.get('id')!r} cannot be rated: rate songs, albums and artists.")
    ratings.rating_set(call.user, KIND_NAMES[kind], pk, call.params.int("rating", required=True))
    return {}


def _when(ms: int) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    except (OverflowError, ValueError, OSError):
        raise InvalidParameter("time", f"must be milliseconds since 1970, got {ms}.") from None


@method("scrobble")
def scrobble(call: Call) -> dict[str, Any]:
    """Record plays (``submission=true``, the default) or what the client plays now
    (``submission=false``, shown by getNowPlaying); ``time`` in ms since the epoch, one per id."""
    track_ids = [ids.parse(value, ids.TRACK) for value in call.params.getlist("id")]
    if not track_ids:
        raise MissingParameter("id")
    times = call.params.ints("time")
    submission = call.params.bool("submission", True)
    with transaction.atomic():
        for index, track_id in enumerate(track_ids):
            played_at = None
            if index < len(times):
                played_at = _when(times[index])
            plays.play_record(call.user, track_id, played_at=played_at, device=call.client[:plays.MAX_DEVICE],
                                 submission=submission)
    return {}
