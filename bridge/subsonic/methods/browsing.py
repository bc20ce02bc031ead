"""Browsing: getIndexes, getMusicDirectory, getArtists, getArtist, getAlbum, getSong, getGenres.

The folder view is artists -> albums -> songs (``ar-`` and ``al-`` ids), built from the
tags, not the files' folders. Indexes list the album artists (artists with albums of their
own), grouped by the first letter of their sort name; ``musicFolderId`` narrows them (and
getGenres' counts) to the artists with albums in that library, and ``ifModifiedSince`` is
ignored (always the full index: a deletion would otherwise go unnoticed).
"""
from __future__ import annotations

import time
from itertools import groupby
from typing import Any

from library import selectors

from .. import ids, shapes
from ..responses import NotFoundError
from . import Call, method

IGNORED_ARTICLES = "The A An"  # what library.text.sort_key moves away


def album_artists(library: int | None = None) -> list[dict[str, Any]]:
    """Every artist with albums of their own (in ``library``, if given), by sort name (pages
    of the shared artist list)."""
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = selectors.artist_list(offset=offset, limit=selectors.MAX_LIMIT, order="name", library=library)
        found += [artist for artist in page["items"] if artist["album_count"]]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


def _letter(artist: dict[str, Any]) -> str:
    first = (artist.get("sort_name") or artist["name"] or "#")[:1].upper()
    return first if first.isalpha() else "#"


def _indexed(artists: list[dict[str, Any]], build) -> list[dict[str, Any]]:
    ordered = sorted(artists, key=lambda artist: (_letter(artist) == "#", _letter(artist)))  # stable: keeps sort-name order
    return [{"name": letter, "artist": [build(artist) for artist in group]} for letter, group in groupby(ordered, key=_letter)]


@method("getIndexes")
def get_indexes(call: Call) -> dict[str, Any]:
    artists = album_artists(call.params.int("musicFolderId"))
    marks = shapes.marks_for(call.user, artists=artists)
    return {"indexes": {
        "lastModified": int(time.time() * 1000),
        "ignoredArticles": IGNORED_ARTICLES,
        "index": _indexed(artists, lambda artist: shapes.artist(artist, marks)),
    }}


@method("getArtists")
def get_artists(call: Call) -> dict[str, Any]:
    artists = album_artists(call.params.int("musicFolderId"))
    marks = shapes.marks_for(call.user, artists=artists)
    return {"artists": {
        "ignoredArticles": IGNORED_ARTICLES,
        "index": _indexed(artists, lambda artist: shapes.artist_id3(artist, marks)),
    }}


@method("getMusicDirectory")
def get_music_directory(call: Call) -> dict[str, Any]:
    """An artist's folder (their albums) or an album's folder (its tracks)."""
    kind, pk = ids.parse_any(call.params.required("id"), default=None)
    if kind == ids.ARTIST:
        artist = selectors.artist_get(pk)
        marks = shapes.marks_for(call.user, albums=artist["albums"], artists=[artist])
        directory = {"id": ids.artist(pk), "name": artist["name"],
                     "child": [shapes.album_dir(album, marks) for album in artist["albums"]]}
        return {"directory": marks.apply(directory, "artist", pk)}
    if kind == ids.ALBUM:
        album = selectors.album_get(pk)
        marks = shapes.marks_for(call.user, tracks=album["tracks"], albums=[album])
        directory = {"id": ids.album(pk), "parent": ids.artist(album["artist"]["id"]), "name": album["title"],
                     "child": [shapes.song(track, marks) for track in album["tracks"]]}
        return {"directory": marks.apply(directory, "album", pk)}
    raise NotFoundError(f"No folder {call.params.get('id')!r}: folders are artists (ar-N) and albums (al-N).")


@method("getArtist")
def get_artist(call: Call) -> dict[str, Any]:
    artist = selectors.artist_get(ids.parse(call.params.required("id"), ids.ARTIST))
    marks = shapes.marks_for(call.user, albums=artist["albums"], artists=[artist])
    element = shapes.artist_id3(artist, marks)
    element["album"] = [shapes.album_id3(album, marks) for album in artist["albums"]]
    return {"artist": element}


@method("getAlbum")
def get_album(call: Call) -> dict[str, Any]:
    album = selectors.album_get(ids.parse(call.params.required("id"), ids.ALBUM))
    marks = shapes.marks_for(call.user, tracks=album["tracks"], albums=[album])
    element = shapes.album_id3(album, marks)
    element["song"] = [shapes.song(track, marks) for track in album["tracks"]]
    return {"album": element}


@method("getSong")
def get_song(call: Call) -> dict[str, Any]:
    track = selectors.track_get(ids.parse(call.params.required("id"), ids.TRACK))
    return {"song": shapes.song(track, shapes.marks_for(call.user, tracks=[track]))}


@method("getGenres")
def get_genres(call: Call) -> dict[str, Any]:
    return {"genres": {"genre": [
        {"songCount": genre["track_count"], "albumCount": genre["album_count"], "value": genre["name"]}
        for genre in selectors.genre_list(library=call.params.int("musicFolderId"))
    ]}}
