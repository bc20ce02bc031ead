"""Artists and tracks alike, from this catalogue alone (no outside service).

``similar_artists`` is the one similarity rule every interface shares: two artists are alike
by their albums' genres (the share of the artist's genres the other's albums also have)
plus by their listeners (the share of the people who played the artist who also played the
other lately: see ``MAX_LISTENERS``). Either half is 0..1, so the score is 0..2. An artist's albums are their own and those
they play on; the artists found are album artists. ``similar_track_ids`` draws tracks of an
artist and of the artists like them; ``top_track_ids`` ranks an artist's tracks by plays on
this server, every user counted. ``manage.py bench similar`` measures them.
"""
from __future__ import annotations

import random

from django.db.models import Count, Max
from django.db.models.expressions import RawSQL

from .models import Album, Artist, Play, Track, TrackArtist, any_library_disabled, hidden_album_ids

DEFAULT_SIMILAR = 20
# Listening together: the artist's MAX_LISTENERS most recent listeners, each by their
# RECENT_PLAYS latest plays (what they listen to now, at a bounded cost).
MAX_LISTENERS = 100
RECENT_PLAYS = 500
AlbumGenre = Album.genres.through


def _own_track_ids(artist_id: int) -> set[int]:
    """The playable tracks the artist plays on or whose album is theirs (two index lookups)."""
    tracks = Track.objects.playable().order_by()
    return set(tracks.filter(album__album_artist_id=artist_id).values_list("id", flat=True)) | set(
        tracks.filter(pk__in=TrackArtist.objects.filter(artist_id=artist_id).values("track_id")).values_list("id", flat=True)
    )


def similar_artists(artist_id: int, limit: int = DEFAULT_SIMILAR) -> list[tuple[int, float]]:
    """``[(artist id, score)]`` of up to ``limit`` other album artists most like this one, best
    first (ties by name); artists with nothing in common are left out."""
    own = _own_track_ids(artist_id)
    if not own:
        return []
    albums = set(Track.objects.filter(pk__in=own).order_by().values_list("album_id", flat=True))
    genres = set(AlbumGenre.objects.filter(album_id__in=albums).values_list("genre_id", flat=True))
    listeners = list(
        Play.objects.filter(track_id__in=own).order_by().values("user_id").annotate(last=Max("played_at"))
        .order_by("-last", "user_id").values_list("user_id", flat=True)[:MAX_LISTENERS]
    )
    scores: dict[int, float] = {}
    if genres:
        shared = AlbumGenre.objects.filter(genre_id__in=genres)
        if any_library_disabled():
            shared = shared.exclude(album_id__in=RawSQL(hidden_album_ids(), ()))
        for row in shared.values("album__album_artist_id").annotate(n=Count("genre_id", distinct=True)).order_by():
            scores[row["album__album_artist_id"]] = row["n"] / len(genres)
    together: dict[int, int] = {}
    for user_id in listeners:  # each listener's recent plays: an index range each, whatever the history's size
        recent = (Play.objects.filter(user_id=user_id).order_by("-played_at")
                  .values_list("track__album__album_artist_id", flat=True)[:RECENT_PLAYS])
        for other in set(recent):
            together[other] = together.get(other, 0) + 1
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
    own = sorted(_own_track_ids(artist_id))
    seen = set(own)
    theirs = Track.objects.playable().filter(album__album_artist_id__in=others).order_by("id").values_list("id", flat=True)
    near = [pk for pk in (theirs if others else ()) if pk not in seen]
    rng.shuffle(own)
    rng.shuffle(near)
    take_own = max(count - len(near), count // 2)
    chosen = own[:take_own] + near[: count - min(take_own, len(own))]
    rng.shuffle(chosen)
    return chosen[:count]


def top_track_ids(artist_name: str, count: int) -> list[int]:
    """Up to ``count`` track ids of the artist called ``artist_name`` (any case), most played
    on this server first (every user's plays; ties by id), then the rest of their tracks in
    catalogue order."""
    artist = Artist.objects.filter(name__iexact=artist_name.strip()).order_by("id").first()
    if artist is None or count <= 0:
        return []
    own = _own_track_ids(artist.pk)
    played = list(
        Play.objects.filter(track_id__in=own).order_by().values("track_id")
        .annotate(n=Count("id")).order_by("-n", "track_id").values_list("track_id", flat=True)[:count]
    )
    if len(played) < count:
        rest = (Track.objects.filter(pk__in=own).exclude(pk__in=played).order_by("album__sort_title", "disc_number", "track_number", "id")
                .values_list("id", flat=True))
        played += list(rest[: count - len(played)])
    return played
