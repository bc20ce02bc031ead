"""Plays (scrobbles), "now playing", play counts and albums ranked by the user's plays.

Shapes: a play is ``{id, track: track dict, played_at, device, submission}`` (``id`` null
when only "now playing" was recorded); now playing is ``{user: user ref, device, track:
track dict, started_at, minutes_ago}``; a most-played entry is ``{track: track dict, plays,
last_played}``.

A play recorded with a ``play_id`` (a UUID the playing client draws when the track starts)
is recorded once: recording it again returns the first record.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any, Iterable

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from common.bounds import is_tracker_id
from common.errors import InvalidPayload

from ..models import NowPlaying, Play
from ..selectors import DEFAULT_LIMIT, _iso, _page, page_bounds, tracks_by_ids
from .shared import _bool, _chunks, _id, _lookup_ids, _whole, _one_track, _text, _tracks_of, _user_ref, _window

MAX_DEVICE = 100
# "Now playing" lasts the track's duration plus this margin (pauses, buffering), or
# NOW_PLAYING_UNKNOWN when the duration is unknown.
NOW_PLAYING_MARGIN = timedelta(minutes=5)
NOW_PLAYING_UNKNOWN = timedelta(minutes=10)
ALBUM_PLAY_ORDERS = ("frequent", "recent")  # album_ids_by_plays


def _when(value: Any, now: datetime) -> datetime:
    """A play's time: now by default; naive times are UTC; a time ahead of the server's
    clock (a device clock running fast) counts as now."""
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise InvalidPayload("played_at must be a date and time.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return min(value, now)


def _play(play: Play, track: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": play.pk,
        "track": track,
        "played_at": _iso(play.played_at),
        "device": play.device,
        "submission": play.submission,
    }


def play_record(
    user,
    track_id: int,
    *,
    played_at: datetime | None = None,
    device: str = "",
    submission: bool = True,
    play_id: str | uuid.UUID | None = None,
) -> dict[str, Any]:
    """Record a play of a track (``submission``: a Play row, a scrobble), or with
    ``submission=False`` only that the user's ``device`` is playing it now (it shows in
    ``now_playing_list`` until the track's duration and a margin have passed). A play with
    a ``play_id`` the user recorded already is not recorded again: the first is returned."""
    track = _one_track(_id(track_id, "track"))
    device = _text(device, "device", MAX_DEVICE)
    submission = _bool(submission, "submission")
    play_uuid = _play_id(play_id)
    now = timezone.now()
    when = _when(played_at, now)
    if submission:
        return _play(_record_once(user, track, when, device, play_uuid), tracks_by_ids([track.pk])[0])
    length = timedelta(milliseconds=track.duration_ms) + NOW_PLAYING_MARGIN if track.duration_ms else NOW_PLAYING_UNKNOWN
    with transaction.atomic():
        NowPlaying.objects.filter(expires__lte=now).delete()  # upkeep: expired rows are never shown
        NowPlaying.objects.update_or_create(
            user=user, device=device, defaults={"track": track, "started_at": when, "expires": when + length}
        )
    return {"id": None, "track": tracks_by_ids([track.pk])[0], "played_at": _iso(when), "device": device,
            "submission": False}


def _play_id(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and is_tracker_id(value):  # the same UUID text form
        return uuid.UUID(value)
    raise InvalidPayload(f"play_id must be a UUID, not {value!r}.")


def _record_once(user, track, when: datetime, device: str, play_id: uuid.UUID | None) -> Play:
    """The Play row of ``play_id`` (created unless the user recorded it already)."""
    if play_id is not None:
        existing = Play.objects.filter(user=user, play_id=play_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return Play.objects.create(user=user, track=track, played_at=when, device=device, submission=True,
                                       play_id=play_id)
    except IntegrityError:  # the same play recorded at the same moment by a retry
        return Play.objects.get(user=user, play_id=play_id)


def play_list(user, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """A page of the user's plays, most recent first."""
    offset, limit = page_bounds(offset, limit)
    plays = Play.objects.filter(user=user).order_by("-played_at", "-id")
    total = plays.count()
    rows = list(plays[offset:offset + limit]) if total > offset else []
    tracks = _tracks_of(rows)
    return _page([_play(play, tracks[play.track_id]) for play in rows], total, offset, limit)


def play_top(user, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """A page of the tracks the user played most (submitted plays), most first, then the
    most recently played, then by id: ``{track, plays, last_played}`` entries."""
    offset, limit = page_bounds(offset, limit)
    counted = (
        Play.objects.filter(user=user, submission=True).order_by().values("track_id")
        .annotate(n=Count("id"), last=Max("played_at"))
    )
    total = counted.count()
    rows = list(counted.order_by("-n", "-last", "track_id")[offset:offset + limit]) if total > offset else []
    tracks = {track["id"]: track for track in tracks_by_ids([row["track_id"] for row in rows])}
    items = [{"track": tracks[row["track_id"]], "plays": row["n"], "last_played": _iso(row["last"])}
             for row in rows if row["track_id"] in tracks]
    return _page(items, total, offset, limit)


def play_counts(user, track_ids: Iterable[int]) -> dict[int, int]:
    """``{track id: plays}`` for those of ``track_ids`` the user played (others left out)."""
    return {track_id: stats["count"] for track_id, stats in play_stats(user, track_ids).items()}


def play_stats(user, track_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{track id: {count, last_played}}`` for those of ``track_ids`` the user played."""
    ids = _lookup_ids(track_ids, "track")
    result: dict[int, dict[str, Any]] = {}
    # A long list and few plays (WHOLE_SET at most): count every play of the user at once.
    if _whole(Play.objects.filter(user=user).order_by().values_list("id", flat=True), ids) is not None:
        wanted = set(ids)
        rows = Play.objects.filter(user=user).order_by().values("track_id").annotate(count=Count("id"), last=Max("played_at"))
        return {row["track_id"]: {"count": row["count"], "last_played": _iso(row["last"])}
                for row in rows if row["track_id"] in wanted}
    for chunk in _chunks(ids):
        rows = (
            Play.objects.filter(user=user, track_id__in=chunk)
            .order_by()
            .values("track_id")
            .annotate(count=Count("id"), last=Max("played_at"))
        )
        result.update((row["track_id"], {"count": row["count"], "last_played": _iso(row["last"])}) for row in rows)
    return result


def played_albums(user, albums: QuerySet, order: str) -> tuple[QuerySet, tuple[str, ...]]:
    """Those of ``albums`` the user played, and their order. ``order``: ``"frequent"``
    (submitted plays of the album's tracks, most first, then the latest of them, then by id)
    or ``"recent"`` (the latest play, submitted or not, first, then by id)."""
    if order not in ALBUM_PLAY_ORDERS:
        raise InvalidPayload(f"Unknown order {order!r}; use one of: {', '.join(ALBUM_PLAY_ORDERS)}.")
    plays = Play.objects.filter(user=user, track__album=OuterRef("pk"))
    if order == "frequent":
        plays = plays.filter(submission=True)
    per_album = plays.order_by().values("track__album")
    last = Subquery(per_album.annotate(last=Max("played_at")).values("last"))
    played = albums.annotate(last_played=last).filter(last_played__isnull=False)
    if order == "recent":
        return played, ("-last_played", "id")
    count = Subquery(per_album.annotate(n=Count("id")).values("n"), output_field=IntegerField())
    return played.annotate(play_count=count), ("-play_count", "-last_played", "id")


def album_ids_by_plays(user, albums: QuerySet, *, order: str, offset: int, size: int) -> list[int]:
    """Ids of those of ``albums`` the user played, in ``played_albums`` order: ``size`` of them
    from ``offset``."""
    offset, size = _window(offset, size)
    played, ordering = played_albums(user, albums, order)
    return list(played.order_by(*ordering).values_list("id", flat=True)[offset:offset + size])


def now_playing_list() -> list[dict[str, Any]]:
    """What every user's devices are playing now (not expired), most recently started first."""
    now = timezone.now()
    rows = list(NowPlaying.objects.filter(expires__gt=now).select_related("user").order_by("-started_at", "-id"))
    tracks = _tracks_of(rows)
    return [
        {
            "user": _user_ref(row.user),
            "device": row.device,
            "track": tracks[row.track_id],
            "started_at": _iso(row.started_at),
            "minutes_ago": max(0, int((now - row.started_at).total_seconds() // 60)),
        }
        for row in rows
    ]
