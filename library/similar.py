"""Artists and tracks alike, from this catalogue alone (no outside service).

``similar_artists`` is the one similarity rule every interface shares: two artists are alike
by the genres of their tracks (the share of the artist's genres the other also plays) plus
by their listeners (the share of the people who played the artist who also played the
other). Either half is 0..1, so the score is 0..2. ``similar_track_ids`` draws tracks of an
artist and of the artists like them; ``top_track_ids`` ranks an artist's tracks by plays on
this server, every user counted.
"""
from __future__ import annotations

import random

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import Artist, Play, Track, TrackArtist

DEFAULT_SIMILAR = 20


def _tracks_of(*artist_ids: int) -> QuerySet:
    """The playable tracks these artists play on or whose album is theirs (one query)."""
    return Track.objects.playable().filter(
        Q(album__album_artist_id__in=artist_ids)
        | Exists(TrackArtist.objects.filter(track=OuterRef("pk"), artist_id__in=artist_ids))
    )


def similar_artists(artist_id: int, limit: int = DEFAULT_SIMILAR) -> list[tuple[int, float]]:
    """``[(artist id, score)]`` of up to ``limit`` other artists most like this one, best
    first (ties by name); artists with nothing in common are left out."""
    mine = _tracks_of(artist_id)
    genres = set(mine.filter(genres__isnull=False).order_by().values_list("genres", flat=True))
    listeners = set(Play.objects.filter(track__in=mine).order_by().values_list("user_id", flat=True))
    scores: dict[int, float] = {}
    if genres:
        shared = (
            Track.objects.playable().filter(genres__in=genres).order_by()
            .values("album__album_artist_id").annotate(n=Count("genres", distinct=True))
        )
        for row in shared:
            scores[row["album__album_artist_id"]] = row["n"] / len(genres)
        featured = (
            TrackArtist.objects.filter(track__in=Track.objects.playable().filter(genres__in=genres)).order_by()
            .values("artist_id").annotate(n=Count("track__genres", distinct=True))
        )
        for row in featured:
            scores[row["artist_id"]] = max(scores.get(row["artist_id"], 0.0), row["n"] / len(genres))
    if listeners:
        played = Play.objects.filter(user_id__in=listeners).order_by().values("track__album__album_artist_id").annotate(
            n=Count("user_id", distinct=True)
        )
        together: dict[int, float] = {row["track__album__album_artist_id"]: row["n"] for row in played}
        for row in (TrackArtist.objects.filter(track__plays__user_id__in=listeners).order_by().values("artist_id")
                    .annotate(n=Count("track__plays__user_id", distinct=True))):
            together[row["artist_id"]] = max(together.get(row["artist_id"], 0), row["n"])
        for other, n in together.items():
            scores[other] = scores.get(other, 0.0) + n / len(listeners)
    scores.pop(artist_id, None)
    names = dict(Artist.objects.filter(pk__in=scores).values_list("id", "sort_name"))
    ranked = sorted((pk for pk in scores if pk in names and scores[pk] > 0), key=lambda pk: (-scores[pk], names[pk], pk))
    return [(pk, round(scores[pk], 4)) for pk in ranked[:limit]]


def similar_track_ids(artist_id: int, count: int, *, seed: int | None = None) -> list[int]:
    """Up to ``count`` track ids of this artist and of the artists like them, in a random
    order (``seed`` makes it repeatable); the artist's own tracks are half at most when
    similar artists have enough."""
    others = [pk for pk, _score in similar_artists(artist_id)]
    rng = random.Random(seed)
    own = list(_tracks_of(artist_id).order_by("id").values_list("id", flat=True))
    seen = set(own)
    near = [pk for pk in (_tracks_of(*others).order_by("id").values_list("id", flat=True) if others else ()) if pk not in seen]
    rng.shuffle(own)
    rng.shuffle(near)
    take_own = max(count - len(near), count // 2)
    chosen = own[:take_own] + near[: count - min(take_own, len(own))]
    rng.shuffle(chosen)
    return chosen[:count]


def top_track_ids(artist_name: str, count: int) -> list[int]:
    """Up to ``count`` track ids of the artist called ``artist_name`` (any case), most played
    on this server first (every user's plays), then by last play, then the rest of their
    tracks in catalogue order."""
    artist = Artist.objects.filter(name__iexact=artist_name.strip()).order_by("id").first()
    if artist is None or count <= 0:
        return []
    tracks = _tracks_of(artist.pk)
    played = list(
        Play.objects.filter(track__in=tracks).order_by().values("track_id")
        .annotate(n=Count("id")).order_by("-n", "track_id").values_list("track_id", flat=True)[:count]
    )
    if len(played) < count:
        rest = (tracks.exclude(pk__in=played).order_by("album__sort_title", "disc_number", "track_number", "id")
                .values_list("id", flat=True))
        played += list(rest[: count - len(played)])
    return played
