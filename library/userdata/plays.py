"""Plays (scrobbles), "now playing", play counts and albums ranked by the user's plays.

Shapes: a play is ``{id, track: track dict, played_at, device, submission}`` (``id`` null
when only "now playing" was recorded); now playing is ``{user: user ref, device, track:
track dict, started_at, minutes_ago}``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any, Iterable

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

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
) -> dict[str, Any]:
    """Record a play of a track (``submission``: a Play row, a scrobble), or with
    ``submission=False`` only that the user's ``device`` is playing it now (it shows in
    ``now_playing_list`` until the track's duration and a margin have passed)."""
    track = _one_track(_id(track_id, "track"))
    device = _text(device, "device", MAX_DEVICE)
    submission = _bool(submission, "submission")
    now = timezone.now()
    when = _when(played_at, now)
    if submission:
        play = Play.objects.create(user=user, track=track, played_at=when, device=device, submission=True)
        return _play(play, tracks_by_ids([track.pk])[0])
    length = timedelta(milliseconds=track.duration_ms) + NOW_PLAYING_MARGIN if track.duration_ms else NOW_PLAYING_UNKNOWN
    with transaction.atomic():
        NowPlaying.objects.filter(expires__lte=now).delete()  # upkeep: expired rows are never shown
        NowPlaying.objects.update_or_create(
            user=user, device=device, defaults={"track": track, "started_at": when, "expires": when + length}
        )
    return {"id": None, "track": tracks_by_ids([track.pk])[0], "played_at": _iso(when), "device": device,
            "submission": False}


def play_list(user, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """A page of the user's plays, most recent first."""
    offset, limit = page_bounds(offset, limit)
    plays = Play.objects.filter(user=user).order_by("-played_at", "-id")
    total = plays.count()
    rows = list(plays[offset:offset + limit]) if total > offset else []
    tracks = _tracks_of(rows)
    return _page([_play(play, tracks[play.track_id]) for play in rows], total, offset, limit)


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


def album_ids_by_plays(user, albums: QuerySet, *, order: str, offset: int, size: int) -> list[int]:
    """Ids of those of ``albums`` the user played, ``size`` of them from ``offset``. ``order``:
    ``"frequent"`` (submitted plays of the album's tracks, most first, then the latest play,
    then by id) or ``"recent"`` (the latest play, submitted or not, first, then by id)."""
    if order not in ALBUM_PLAY_ORDERS:
        raise InvalidPayload(f"Unknown order {order!r}; use one of: {', '.join(ALBUM_PLAY_ORDERS)}.")
    offset, size = _window(offset, size)
    plays = Play.objects.filter(user=user, track__album__in=albums).values("track__album")
    if order == "frequent":
        ranked = plays.filter(submission=True).annotate(n=Count("id"), last=Max("played_at")).order_by("-n", "-last", "track__album")
    else:
        ranked = plays.annotate(last=Max("played_at")).order_by("-last", "track__album")
    return [row["track__album"] for row in ranked[offset:offset + size]]


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
