"""Catalogue queries every interface shares (WebSocket actions, REST, Subsonic).

Each returns JSON-safe dicts (ids, strings, numbers, booleans, ISO times), never model
instances. Lists are pages: ``{"items": [...], "total": N, "offset": o, "limit": l}``;
``limit`` defaults to 50 and is clamped to 1..500, ``offset`` to >= 0. Every list call
does a fixed number of queries whatever the page size. Missing ids raise ``NotFound``.

Shapes (see the ``_artist``/``_album``/``_track`` builders):

- artist: ``{id, name, sort_name, album_count}``
- album: ``{id, title, sort_title, artist: {id, name}, year, genres: [name], compilation,
  disc_count, track_count, duration_ms, cover, created}`` (``cover``: a cover-art id or null)
- track: ``{id, title, artist, artists: [{id, name}], album: {id, title}, album_artist:
  {id, name}, track_number, disc_number, year, genres, duration_ms, format, codec,
  bitrate, sample_rate, channels, size, cover, library, replaygain: {...}}``
"""
from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from common.errors import InvalidPayload, NotFound

from . import search as search_index
from .models import Album, Artist, Genre, Track, TrackArtist

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

ARTIST_ORDERS = {
    "name": ("sort_name", "id"),
    "recent": ("-created", "-id"),
}
ALBUM_ORDERS = {
    "name": ("sort_title", "id"),
    "year": (F("year").asc(nulls_last=True), "sort_title", "id"),
    "recent": ("-created", "-id"),
}


# -- paging ---------------------------------------------------------------------------------


def page_bounds(offset: int | None, limit: int | None) -> tuple[int, int]:
    """``(offset, limit)`` clamped: offset >= 0, 1 <= limit <= MAX_LIMIT (default 50)."""
    offset = max(0, int(offset or 0))
    limit = DEFAULT_LIMIT if limit is None else min(MAX_LIMIT, max(1, int(limit)))
    return offset, limit


def _page(items: list[dict], total: int, offset: int, limit: int) -> dict[str, Any]:
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def _paginate(queryset: QuerySet, build, offset: int | None, limit: int | None) -> dict[str, Any]:
    offset, limit = page_bounds(offset, limit)
    total = queryset.count()
    rows = list(queryset[offset:offset + limit]) if total > offset else []
    return _page([build(row) for row in rows], total, offset, limit)


def _order(orders: dict[str, tuple], order: str) -> tuple:
    try:
        return orders[order]
    except KeyError:
        raise InvalidPayload(f"Unknown order {order!r}; use one of: {', '.join(orders)}.") from None


# -- querysets ------------------------------------------------------------------------------


def _artists() -> QuerySet:
    return Artist.objects.annotate(album_count=Count("albums"))


def _albums() -> QuerySet:
    return Album.objects.select_related("album_artist").prefetch_related(
        Prefetch("genres", queryset=Genre.objects.order_by("name"))
    )


def _tracks() -> QuerySet:
    return Track.objects.select_related("album", "album__album_artist").prefetch_related(
        Prefetch("trackartist_set", queryset=TrackArtist.objects.select_related("artist").order_by("position")),
        Prefetch("genres", queryset=Genre.objects.order_by("name")),
    )


def _in_order(queryset: QuerySet, ids: list[int]) -> list:
    """The rows with these ids, in the ids' order (missing ones left out)."""
    by_id = {row.pk: row for row in queryset.filter(pk__in=ids)} if ids else {}
    return [by_id[pk] for pk in ids if pk in by_id]


def albums_by_ids(album_ids: list[int]) -> list[dict[str, Any]]:
    """Album dicts for these ids, in the ids' order (missing ones left out)."""
    return [_album(album) for album in _in_order(_albums(), list(album_ids))]


def tracks_by_ids(track_ids: list[int]) -> list[dict[str, Any]]:
    """Track dicts for these ids, in the ids' order (missing ones left out)."""
    return [_track(track) for track in _in_order(_tracks(), list(track_ids))]


# -- dict builders --------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _ref(artist: Artist) -> dict[str, Any]:
    return {"id": artist.pk, "name": artist.name}


def _artist(artist: Artist) -> dict[str, Any]:
    return {
        "id": artist.pk,
        "name": artist.name,
        "sort_name": artist.sort_name,
        "album_count": getattr(artist, "album_count", None),
    }


def _genre_names(obj: Album | Track) -> list[str]:
    return [genre.name for genre in obj.genres.all()]  # prefetched


def _album(album: Album) -> dict[str, Any]:
    return {
        "id": album.pk,
        "title": album.title,
        "sort_title": album.sort_title,
        "artist": _ref(album.album_artist),
        "year": album.year,
        "genres": _genre_names(album),
        "compilation": album.compilation,
        "disc_count": album.disc_count,
        "track_count": album.track_count,
        "duration_ms": album.duration_ms,
        "cover": album.cover_id,
        "created": _iso(album.created),
    }


def _track(track: Track) -> dict[str, Any]:
    album = track.album
    return {
        "id": track.pk,
        "title": track.title,
        "artist": track.artist_display,
        "artists": [_ref(link.artist) for link in track.trackartist_set.all()],  # prefetched, in tag order
        "album": {"id": album.pk, "title": album.title},
        "album_artist": _ref(album.album_artist),
        "track_number": track.track_number,
        "disc_number": track.disc_number,
        "year": track.year,
        "genres": _genre_names(track),
        "duration_ms": track.duration_ms,
        "format": track.format,
        "codec": track.codec,
        "bitrate": track.bitrate,
        "sample_rate": track.sample_rate,
        "channels": track.channels,
        "size": track.size,
        "cover": track.cover_id if track.cover_id is not None else album.cover_id,
        "library": track.library_id,
        "replaygain": {
            "track_gain": track.replaygain_track_gain,
            "track_peak": track.replaygain_track_peak,
            "album_gain": track.replaygain_album_gain,
            "album_peak": track.replaygain_album_peak,
        },
    }


# -- artists --------------------------------------------------------------------------------


def artist_list(*, offset: int = 0, limit: int = DEFAULT_LIMIT, order: str = "name") -> dict[str, Any]:
    """A page of artists (album artists and track artists alike) with their album counts."""
    queryset = _artists().order_by(*_order(ARTIST_ORDERS, order))
    return _paginate(queryset, _artist, offset, limit)


def artist_get(artist_id: int) -> dict[str, Any]:
    """An artist with ``albums`` (as album artist, by year) and ``appears_on`` (others' albums
    with tracks of theirs: compilations, features)."""
    artist = _artists().filter(pk=artist_id).first()
    if artist is None:
        raise NotFound(f"No artist with id {artist_id}.")
    albums = _albums().filter(album_artist=artist).order_by(*ALBUM_ORDERS["year"])
    appears_on = (
        _albums()
        .filter(Exists(TrackArtist.objects.filter(artist=artist, track__album=OuterRef("pk"))))
        .exclude(album_artist=artist)
        .order_by(*ALBUM_ORDERS["year"])
    )
    return {
        **_artist(artist),
        "musicbrainz_id": artist.musicbrainz_id,
        "albums": [_album(album) for album in albums],
        "appears_on": [_album(album) for album in appears_on],
    }


# -- albums ---------------------------------------------------------------------------------


def album_list(
    *,
    artist: int | None = None,
    genre: int | str | None = None,
    year: int | None = None,
    library: int | None = None,
    order: str = "name",
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """A page of albums, optionally of one album artist (id), genre (id, or name in any case),
    year, or library (id: albums with a track in it); ordered by name, year or recent (newest
    first)."""
    ordering = _order(ALBUM_ORDERS, order)
    queryset = _albums()
    if artist is not None:
        queryset = queryset.filter(album_artist_id=artist)
    if genre is not None:
        links = Album.genres.through.objects.filter(album_id=OuterRef("pk"))
        links = links.filter(genre_id=genre) if isinstance(genre, int) else links.filter(genre__name__iexact=genre)
        queryset = queryset.filter(Exists(links))
    if year is not None:
        queryset = queryset.filter(year=year)
    if library is not None:
        queryset = queryset.filter(Exists(Track.objects.filter(album=OuterRef("pk"), library_id=library)))
    return _paginate(queryset.order_by(*ordering), _album, offset, limit)


def album_get(album_id: int) -> dict[str, Any]:
    """An album with its ``tracks`` in disc and track order."""
    album = _albums().filter(pk=album_id).first()
    if album is None:
        raise NotFound(f"No album with id {album_id}.")
    tracks = _tracks().filter(album=album).order_by(
        F("disc_number").asc(nulls_first=True), F("track_number").asc(nulls_last=True), "sort_title", "id"
    )
    return {**_album(album), "musicbrainz_id": album.musicbrainz_id, "tracks": [_track(track) for track in tracks]}


# -- tracks ---------------------------------------------------------------------------------


def track_get(track_id: int) -> dict[str, Any]:
    """A track with its details (lyrics, MusicBrainz ids, totals) besides the list fields."""
    track = _tracks().filter(pk=track_id).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    return {
        **_track(track),
        "track_total": track.track_total,
        "disc_total": track.disc_total,
        "lyrics": track.lyrics,
        "musicbrainz": {
            "track": track.musicbrainz_track_id,
            "album": track.musicbrainz_album_id,
            "artist": track.musicbrainz_artist_id,
        },
        "updated": _iso(track.updated),
    }


# -- genres ---------------------------------------------------------------------------------


def _count(through) -> Coalesce:
    counted = (
        through.objects.filter(genre_id=OuterRef("pk"))
        .order_by()
        .values("genre_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def genre_list() -> list[dict[str, Any]]:
    """Genres in use, by name: ``[{id, name, album_count, track_count}]``."""
    genres = (
        Genre.objects.annotate(
            album_count=_count(Album.genres.through),
            track_count=_count(Track.genres.through),
        )
        .filter(Q(album_count__gt=0) | Q(track_count__gt=0))
        .order_by("name")
    )
    return [
        {"id": genre.pk, "name": genre.name, "album_count": genre.album_count, "track_count": genre.track_count}
        for genre in genres
    ]


# -- search ---------------------------------------------------------------------------------


def _search_page(kind: str, queryset: QuerySet, build, query: str, offset: int, limit: int) -> dict[str, Any]:
    ids, total = search_index.search_ids(kind, query, limit=limit, offset=offset)
    return _page([build(row) for row in _in_order(queryset, ids)], total, offset, limit)


def search(query: str, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Artists, albums and tracks matching ``query`` (word prefixes, any case and accents),
    best first, each a page with the same offset and limit. See ``library.search``."""
    offset, limit = page_bounds(offset, limit)
    return {
        "artists": _search_page("artist", _artists(), _artist, query, offset, limit),
        "albums": _search_page("album", _albums(), _album, query, offset, limit),
        "tracks": _search_page("track", _tracks(), _track, query, offset, limit),
    }

