"""What the server knows about artists and albums: getArtistInfo, getArtistInfo2,
getAlbumInfo, getAlbumInfo2, getTopSongs, getSimilarSongs, getSimilarSongs2.

No outside service is asked: the MusicBrainz ids are the tags', the images are this
server's cover art (``getCoverArt`` URLs at three sizes, which a client calls with its
credentials like any other Subsonic URL), the biography and notes are empty, and similar
artists and songs come from ``library.similar`` (shared genres and listeners).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from library import selectors, similar
from library.models import Album, Track

from .. import ids, queries, shapes
from ..responses import NotFoundError, Text
from . import Call, method

IMAGE_SIZES = {"smallImageUrl": 128, "mediumImageUrl": 512, "largeImageUrl": 1200}
MAX_COUNT = 500
DEFAULT_SONGS = 50
DEFAULT_TOP = 50


def image_urls(call: Call, cover_id: str | None) -> dict[str, Text | None]:
    """``getCoverArt`` URLs of ``cover_id`` at the three sizes (None each when there is no image)."""
    urls: dict[str, Text | None] = {}
    for field, size in IMAGE_SIZES.items():
        query = urlencode({"id": cover_id, "size": size})
        urls[field] = Text(call.http.build_absolute_uri(f"/rest/getCoverArt.view?{query}")) if cover_id else None
    return urls


def _artist_of(value: str) -> int:
    """The artist named by an artist id, or the album artist of an album or song id."""
    kind, pk = ids.parse_any(value, default=ids.ARTIST)
    if kind == ids.ARTIST:
        return pk
    if kind == ids.ALBUM:
        found = Album.objects.playable().filter(pk=pk).values_list("album_artist_id", flat=True).first()
    elif kind == ids.TRACK:
        found = Track.objects.playable().filter(pk=pk).values_list("album__album_artist_id", flat=True).first()
    else:
        found = None
    if found is None:
        raise NotFoundError(f"No artist, album or song {value[:60]!r}.")
    return found


def _album_of(value: str) -> int:
    kind, pk = ids.parse_any(value, default=ids.ALBUM)
    if kind == ids.TRACK:
        album = Track.objects.playable().filter(pk=pk).values_list("album_id", flat=True).first()
        if album is not None:
            return album
    elif kind == ids.ALBUM:
        return pk
    raise NotFoundError(f"No album {value[:60]!r}.")


def _artist_info(call: Call, shape) -> dict[str, Any]:
    artist = selectors.artist_get(_artist_of(call.params.required("id")))
    count = call.params.int("count", similar.DEFAULT_SIMILAR, minimum=0, maximum=MAX_COUNT)
    alike = selectors.artists_by_ids([pk for pk, _score in similar.similar_artists(artist["id"], count)])
    marks = shapes.marks_for(call.user, artists=alike)
    cover = ids.artist(artist["id"]) if queries.artist_cover(artist["id"]) is not None else None
    return {
        "biography": Text(""),
        "musicBrainzId": Text(artist["musicbrainz_id"]) if artist.get("musicbrainz_id") else None,
        **image_urls(call, cover),
        "similarArtist": [shape(item, marks) for item in alike],
    }


ARTIST_FIELDS = ("id", "name", "artistImageUrl", "starred", "userRating", "averageRating")  # the XSD's Artist


def _short_artist(item: dict[str, Any], marks: shapes.Marks) -> dict[str, Any]:
    """``shapes.artist`` with only the attributes the schema's ``Artist`` has."""
    element = shapes.artist(item, marks)
    return {key: element[key] for key in ARTIST_FIELDS if key in element}


@method("getArtistInfo")
def get_artist_info(call: Call) -> dict[str, Any]:
    return {"artistInfo": _artist_info(call, _short_artist)}


@method("getArtistInfo2")
def get_artist_info2(call: Call) -> dict[str, Any]:
    return {"artistInfo2": _artist_info(call, shapes.artist_id3)}


def _album_info(call: Call) -> dict[str, Any]:
    album = selectors.album_get(_album_of(call.params.required("id")))
    mbid = Album.objects.filter(pk=album["id"]).values_list("musicbrainz_id", flat=True).first()
    return {
        "notes": Text(""),
        "musicBrainzId": Text(mbid) if mbid else None,
        **image_urls(call, ids.cover(album.get("cover"))),
    }


@method("getAlbumInfo")
def get_album_info(call: Call) -> dict[str, Any]:
    return {"albumInfo": _album_info(call)}


@method("getAlbumInfo2")
def get_album_info2(call: Call) -> dict[str, Any]:
    return {"albumInfo": _album_info(call)}


def _songs(call: Call, track_ids: list[int]) -> list[dict[str, Any]]:
    tracks = queries.tracks_by_ids(track_ids)
    marks = shapes.marks_for(call.user, tracks=tracks)
    return [shapes.song(track, marks) for track in tracks]


@method("getTopSongs")
def get_top_songs(call: Call) -> dict[str, Any]:
    """The artist's (by name) songs most played on this server."""
    count = call.params.int("count", DEFAULT_TOP, minimum=0, maximum=MAX_COUNT)
    return {"topSongs": {"song": _songs(call, similar.top_track_ids(call.params.required("artist"), count))}}


def _similar_songs(call: Call) -> list[dict[str, Any]]:
    artist = _artist_of(call.params.required("id"))
    count = call.params.int("count", DEFAULT_SONGS, minimum=0, maximum=MAX_COUNT)
    return _songs(call, similar.similar_track_ids(artist, count))


@method("getSimilarSongs")
def get_similar_songs(call: Call) -> dict[str, Any]:
    return {"similarSongs": {"song": _similar_songs(call)}}


@method("getSimilarSongs2")
def get_similar_songs2(call: Call) -> dict[str, Any]:
    return {"similarSongs2": {"song": _similar_songs(call)}}
