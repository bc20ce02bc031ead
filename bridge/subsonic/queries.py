"""Queries only the Subsonic API needs (its list types have no counterpart elsewhere).

Everything else comes from ``library.selectors`` and ``library.userdata`` (user data,
ratings and plays included, is only ever read through ``library.userdata``). These return
catalogue dicts built by the selectors' own builders, so a Subsonic album or track is the
same dict REST and WebSocket clients get, with a fixed number of queries per call.

- ``albums_by_ids`` / ``tracks_by_ids``: catalogue dicts in the order of the ids given.
- ``album_ids_for_list``: the getAlbumList types the shared ``album_list`` has no order for
  (random, alphabeticalByArtist, byYear ranges; highest, frequent and recent through
  ``ratings.album_ids_by_rating`` / ``album_ids_by_plays``, within the music folder).
- ``track_page``: every track (or a genre's), paged in catalogue order (getSongsByGenre)
  or in the order they were added (the empty search that clients use to sync the whole
  library).
- ``random_track_ids``, ``lyrics_track``, ``artist_cover``.
"""
from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from library import selectors
from library.userdata import plays, ratings
from library.models import Album, CoverArt, Track

albums_by_ids = selectors.albums_by_ids
tracks_by_ids = selectors.tracks_by_ids



def _in_library(queryset: QuerySet, library: int | None) -> QuerySet:
    if library is None:
        return queryset
    return queryset.filter(Exists(Track.objects.filter(album=OuterRef("pk"), library_id=library)))


def album_ids_for_list(kind: str, *, user, offset: int, size: int, from_year: int | None = None,
                       to_year: int | None = None, library: int | None = None) -> list[int]:
    """Album ids for the getAlbumList types ``random``, ``highest``, ``frequent``, ``recent``,
    ``alphabeticalByArtist`` and ``byYear`` (``from_year`` > ``to_year`` lists newest first)."""
    albums = _in_library(Album.objects.playable(), library)
    if kind == "random":
        return list(albums.order_by("?").values_list("id", flat=True)[:size])
    if kind == "alphabeticalByArtist":
        ordered = albums.order_by("album_artist__sort_name", F("year").asc(nulls_last=True), "sort_title", "id")
        return list(ordered.values_list("id", flat=True)[offset:offset + size])
    if kind == "byYear":
        low, high = sorted((from_year, to_year))
        ordered = albums.filter(year__gte=low, year__lte=high)
        ordered = ordered.order_by("-year", "sort_title", "id") if from_year > to_year else ordered.order_by("year", "sort_title", "id")
        return list(ordered.values_list("id", flat=True)[offset:offset + size])
    if kind == "highest":
        return ratings.album_ids_by_rating(user, albums, offset=offset, size=size)
    if kind in ("frequent", "recent"):
        return plays.album_ids_by_plays(user, albums, order=kind, offset=offset, size=size)
    raise ValueError(kind)  # pragma: no cover - the view checks the type first


def track_page(*, offset: int, limit: int, genre: str | None = None, library: int | None = None,
               order: str = "album") -> list[dict[str, Any]]:
    """A page of tracks, of a genre (name, any case), in an order of ``selectors.TRACK_ORDERS``:
    catalogue order (album, disc, number), or ``id`` (the order they were added in: what a
    whole-library sync pages through, since an offset into it costs no sort)."""
    tracks = Track.objects.playable()
    if genre is not None:
        tracks = tracks.filter(genres__name__iexact=genre)
    if library is not None:
        tracks = tracks.filter(library_id=library)
    ordering = selectors.TRACK_ORDERS[order]
    track_ids = list(tracks.order_by(*ordering).values_list("id", flat=True)[offset:offset + limit])
    return tracks_by_ids(track_ids)


def random_track_ids(size: int, *, genre: str | None = None, from_year: int | None = None,
                     to_year: int | None = None, library: int | None = None) -> list[int]:
    tracks = Track.objects.playable()
    if genre:
        tracks = tracks.filter(genres__name__iexact=genre)
    tracks = tracks.filter(selectors.track_year_between(from_year, to_year))
    if library is not None:
        tracks = tracks.filter(library_id=library)
    return list(tracks.order_by("?").values_list("id", flat=True).distinct()[:size])


def lyrics_track(artist: str, title: str) -> int | None:
    """The id of a track with lyrics whose title (and artist, if given) match, any case."""
    tracks = Track.objects.playable().exclude(lyrics="").filter(title__iexact=title.strip())
    if artist.strip():
        tracks = tracks.filter(Q(artist_display__icontains=artist.strip()) | Q(album__album_artist__name__iexact=artist.strip()))
    return tracks.order_by("id").values_list("id", flat=True).first()


def artist_cover(artist_id: int) -> CoverArt | None:
    """An artist's picture: the cover of their first album that has one (by year)."""
    album = (Album.objects.playable().filter(album_artist_id=artist_id, cover__isnull=False).select_related("cover")
             .order_by(F("year").asc(nulls_last=True), "sort_title", "id").first())
    return album.cover if album else None


def track_count() -> int:
    return Track.objects.playable().count()
