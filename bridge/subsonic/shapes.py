"""Catalogue dicts (from ``library.selectors``) as Subsonic elements, with the caller's marks.

``song`` is the ``Child`` of a track, ``album_dir`` the ``Child`` of an album seen as a
folder (file-structure methods), ``album_id3`` / ``artist_id3`` the ID3 forms, ``artist``
the short ``Artist`` of indexes and search2. OpenSubsonic fields (``genres``, ``artists``,
``displayArtist``, ``replayGain``, ``mediaType``, ...) ride along: plain Subsonic clients
ignore them. ``Marks`` holds the caller's stars, ratings and play counts for the objects of
one response, fetched in one query per kind.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Iterable

from bridge.files import AUDIO_TYPES
from library.userdata import favourites, plays, ratings

from . import ids
from .responses import Element


def iso(value: Any) -> str | None:
    """An ISO time (string or datetime) as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    if value is None or value == "":
        return None
    if type(value) is str and value.endswith("+00:00"):  # the selectors' isoformat() of UTC times: no parsing
        if len(value) == 25:
            return value[:19] + ".000Z"
        if len(value) == 32:
            return value[:23] + "Z"
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time(), datetime.timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def seconds(duration_ms: int | None) -> int:
    return int(round((duration_ms or 0) / 1000))


def content_type(suffix: str) -> str:
    return AUDIO_TYPES.get(suffix, "application/octet-stream")


def _safe(name: str) -> str:
    if not name:
        return ""
    return name.replace("/", "_").replace("\\", "_") if "/" in name or "\\" in name else name


# -- the caller's marks ---------------------------------------------------------------------


@dataclass
class Marks:
    """Stars (``{id: starred_at}``), ratings (``{id: 1..5}``) and play counts (tracks) per kind."""

    starred: dict[str, dict[int, Any]] = field(default_factory=dict)
    ratings: dict[str, dict[int, int]] = field(default_factory=dict)
    plays: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, user, *, tracks: Iterable[int] = (), albums: Iterable[int] = (), artists: Iterable[int] = ()) -> "Marks":
        marks = cls()
        for kind, wanted in (("track", tracks), ("album", albums), ("artist", artists)):
            wanted = sorted({pk for pk in wanted if pk is not None})
            if not wanted:
                continue
            marks.starred[kind] = dict(favourites.favourite_ids(user, kind, wanted))
            marks.ratings[kind] = dict(ratings.rating_get_many(user, kind, wanted))
            if kind == "track":
                marks.plays = dict(plays.play_counts(user, wanted))
        return marks

    def apply(self, element: dict[str, Any], kind: str, pk: int, *, rating: bool = True) -> dict[str, Any]:
        """The marks as attributes; ``rating=False`` for elements without ``userRating`` (ArtistID3)."""
        element["starred"] = iso(self.starred.get(kind, {}).get(pk))
        if rating:
            element["userRating"] = self.ratings.get(kind, {}).get(pk)
        if kind == "track":
            element["playCount"] = self.plays.get(pk, 0)
        return element


NO_MARKS = Marks()


def marks_for(user, *, tracks: Iterable[dict] = (), albums: Iterable[dict] = (), artists: Iterable[dict] = ()) -> Marks:
    return Marks.load(user, tracks=[t["id"] for t in tracks], albums=[a["id"] for a in albums],
                      artists=[a["id"] for a in artists])


# -- elements -------------------------------------------------------------------------------


def _element(element: dict[str, Any]) -> Element:
    """The element without its ``None`` values (its children have none either)."""
    return Element({key: value for key, value in element.items() if value is not None})


def _people(refs: Iterable[dict]) -> list[dict[str, Any]]:
    return [{"id": ids.artist(ref["id"]), "name": ref["name"]} for ref in refs]


def _replay_gain(gain: dict[str, Any] | None) -> dict[str, Any] | None:
    if not gain:
        return None
    element = {
        "trackGain": gain.get("track_gain"),
        "albumGain": gain.get("album_gain"),
        "trackPeak": gain.get("track_peak"),
        "albumPeak": gain.get("album_peak"),
    }
    return {key: value for key, value in element.items() if value is not None} or None


def song(track: dict[str, Any], marks: Marks = NO_MARKS) -> dict[str, Any]:
    """A track as a ``Child`` (``song``, ``entry``)."""
    suffix = track["format"]
    album, album_artist = track["album"], track["album_artist"]
    number = track.get("track_number")
    disc = track.get("disc_number")
    prefix = f"{disc}-" if disc and disc > 1 else ""
    name = f"{prefix}{number:02d} - " if number else ""
    artists = track.get("artists")
    first_artist = artists[0] if artists else album_artist
    genres = track.get("genres")
    album_id = f"{ids.ALBUM}-{album['id']}"
    shown = track["artist"] or album_artist["name"]
    bitrate = track.get("bitrate")
    element = {
        "id": f"{ids.TRACK}-{track['id']}",
        "parent": album_id,
        "isDir": False,
        "title": track["title"],
        "album": album["title"],
        "artist": shown,
        "track": number,
        "year": track.get("year"),
        "genre": genres[0] if genres else None,
        "coverArt": ids.cover(track.get("cover")),
        "size": track.get("size"),
        "contentType": AUDIO_TYPES.get(suffix, "application/octet-stream"),
        "suffix": suffix,
        "duration": int(round((track.get("duration_ms") or 0) / 1000)),
        "bitRate": round(bitrate / 1000) if bitrate else None,
        "samplingRate": track.get("sample_rate"),
        "channelCount": track.get("channels"),
        "path": f"{_safe(album_artist['name'])}/{_safe(album['title'])}/{_safe(name + track['title'])}.{suffix}",
        "isVideo": False,
        "discNumber": disc,
        "albumId": album_id,
        "artistId": f"{ids.ARTIST}-{first_artist['id']}",
        "type": "music",
        "mediaType": "song",
        "created": iso(track.get("created")),
        "musicBrainzId": (track.get("musicbrainz") or {}).get("track") or None,
        "genres": [{"name": genre} for genre in genres] if genres else [],
        "artists": _people(artists) if artists else [],
        "displayArtist": shown,
        "albumArtists": [{"id": f"{ids.ARTIST}-{album_artist['id']}", "name": album_artist["name"]}],
        "displayAlbumArtist": album_artist["name"],
        "replayGain": _replay_gain(track.get("replaygain")),
    }
    return _element(marks.apply(element, "track", track["id"]))


def album_id3(album: dict[str, Any], marks: Marks = NO_MARKS) -> dict[str, Any]:
    """An album as ``AlbumID3`` (getAlbum, getAlbumList2, search3, getArtist, getStarred2)."""
    artist = album["artist"]
    element = {
        "id": ids.album(album["id"]),
        "name": album["title"],
        "artist": artist["name"],
        "artistId": ids.artist(artist["id"]),
        "coverArt": ids.cover(album.get("cover")),
        "songCount": album.get("track_count", 0),
        "duration": seconds(album.get("duration_ms")),
        "created": iso(album.get("created")),
        "year": album.get("year"),
        "genre": album["genres"][0] if album.get("genres") else None,
        "sortName": album.get("sort_title"),
        "musicBrainzId": album.get("musicbrainz_id") or None,
        "isCompilation": bool(album.get("compilation")),
        "genres": [{"name": name} for name in album.get("genres") or []],
        "artists": _people([artist]),
        "displayArtist": artist["name"],
    }
    return _element(marks.apply(element, "album", album["id"]))


def album_dir(album: dict[str, Any], marks: Marks = NO_MARKS) -> dict[str, Any]:
    """An album as a folder ``Child`` (getAlbumList, getMusicDirectory of an artist, search2, getStarred)."""
    artist = album["artist"]
    element = {
        "id": ids.album(album["id"]),
        "parent": ids.artist(artist["id"]),
        "isDir": True,
        "title": album["title"],
        "album": album["title"],
        "artist": artist["name"],
        "year": album.get("year"),
        "genre": album["genres"][0] if album.get("genres") else None,
        "coverArt": ids.cover(album.get("cover")),
        "duration": seconds(album.get("duration_ms")),
        "created": iso(album.get("created")),
        "albumId": ids.album(album["id"]),
        "artistId": ids.artist(artist["id"]),
        "mediaType": "album",
    }
    return _element(marks.apply(element, "album", album["id"]))


def artist(item: dict[str, Any], marks: Marks = NO_MARKS) -> dict[str, Any]:
    """The short ``Artist`` (getIndexes, search2, getStarred)."""
    element = {
        "id": ids.artist(item["id"]),
        "name": item["name"],
    }
    return _element(marks.apply(element, "artist", item["id"]))


def artist_id3(item: dict[str, Any], marks: Marks = NO_MARKS) -> dict[str, Any]:
    """``ArtistID3`` (getArtists, getArtist, search3, getStarred2)."""
    element = {
        "id": ids.artist(item["id"]),
        "name": item["name"],
        "coverArt": ids.artist(item["id"]),
        "albumCount": item.get("album_count") or 0,
        "sortName": item.get("sort_name"),
        "musicBrainzId": item.get("musicbrainz_id") or None,
    }
    return _element(marks.apply(element, "artist", item["id"], rating=False))
