"""Lists: getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre, getStarred,
getStarred2, getNowPlaying."""
from __future__ import annotations

from typing import Any

from library import selectors
from library.userdata import favourites, plays

from .. import queries, shapes
from ..responses import InvalidParameter
from . import Call, method

MAX_SIZE = 500
LIST_TYPES = ("random", "newest", "highest", "frequent", "recent", "alphabeticalByName",
              "alphabeticalByArtist", "starred", "byYear", "byGenre")
_SHARED_ORDERS = {"newest": "recent", "alphabeticalByName": "name", "byGenre": "name"}


def _albums(call: Call) -> list[dict[str, Any]]:
    """The albums of a getAlbumList(2) request, as catalogue dicts."""
    params = call.params
    kind = params.required("type")
    if kind not in LIST_TYPES:
        raise InvalidParameter("type", f"must be one of: {', '.join(LIST_TYPES)}; got {kind[:40]!r}.")
    size = params.int("size", 10, minimum=1, maximum=MAX_SIZE)
    offset = params.int("offset", 0, minimum=0)
    library = params.int("musicFolderId")
    if kind in _SHARED_ORDERS:
        genre = params.required("genre") if kind == "byGenre" else None
        page = selectors.album_list(order=_SHARED_ORDERS[kind], genre=genre, library=library, offset=offset, limit=size)
        return page["items"]
    if kind == "starred":
        return favourites.favourite_list(call.user, library=library)["albums"][offset:offset + size]
    years = {}
    if kind == "byYear":
        years = {"from_year": params.int("fromYear", required=True), "to_year": params.int("toYear", required=True)}
    album_ids = queries.album_ids_for_list(kind, user=call.user, offset=offset, size=size, library=library, **years)
    return queries.albums_by_ids(album_ids)


@method("getAlbumList")
def get_album_list(call: Call) -> dict[str, Any]:
    albums = _albums(call)
    marks = shapes.marks_for(call.user, albums=albums)
    return {"albumList": {"album": [shapes.album_dir(album, marks) for album in albums]}}


@method("getAlbumList2")
def get_album_list2(call: Call) -> dict[str, Any]:
    albums = _albums(call)
    marks = shapes.marks_for(call.user, albums=albums)
    return {"albumList2": {"album": [shapes.album_id3(album, marks) for album in albums]}}


def _songs(call: Call, tracks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    marks = shapes.marks_for(call.user, tracks=tracks)
    return [shapes.song(track, marks) for track in tracks]


@method("getRandomSongs")
def get_random_songs(call: Call) -> dict[str, Any]:
    params = call.params
    track_ids = queries.random_track_ids(
        params.int("size", 10, minimum=1, maximum=MAX_SIZE),
        genre=params.get("genre") or None,
        from_year=params.int("fromYear"),
        to_year=params.int("toYear"),
        library=params.int("musicFolderId"),
    )
    return {"randomSongs": {"song": _songs(call, queries.tracks_by_ids(track_ids))}}


@method("getSongsByGenre")
def get_songs_by_genre(call: Call) -> dict[str, Any]:
    params = call.params
    tracks = queries.track_page(
        genre=params.required("genre"),
        offset=params.int("offset", 0, minimum=0),
        limit=params.int("count", 10, minimum=1, maximum=MAX_SIZE),
        library=params.int("musicFolderId"),
    )
    return {"songsByGenre": {"song": _songs(call, tracks)}}


def _starred(call: Call, id3: bool) -> dict[str, Any]:
    starred = favourites.favourite_list(call.user, library=call.params.int("musicFolderId"))
    marks = shapes.marks_for(call.user, tracks=starred["tracks"], albums=starred["albums"], artists=starred["artists"])
    build_artist = shapes.artist_id3 if id3 else shapes.artist
    build_album = shapes.album_id3 if id3 else shapes.album_dir
    return {
        "artist": [build_artist(artist, marks) for artist in starred["artists"]],
        "album": [build_album(album, marks) for album in starred["albums"]],
        "song": [shapes.song(track, marks) for track in starred["tracks"]],
    }


@method("getStarred")
def get_starred(call: Call) -> dict[str, Any]:
    return {"starred": _starred(call, id3=False)}


@method("getStarred2")
def get_starred2(call: Call) -> dict[str, Any]:
    return {"starred2": _starred(call, id3=True)}


@method("getNowPlaying")
def get_now_playing(call: Call) -> dict[str, Any]:
    """What every user is playing now (set by scrobble with ``submission=false``)."""
    playing = plays.now_playing_list()
    marks = shapes.marks_for(call.user, tracks=[entry["track"] for entry in playing])
    entries = []
    for entry in playing:
        entries.append({**shapes.song(entry["track"], marks), "username": entry["user"]["username"],
                        "minutesAgo": entry["minutes_ago"], "playerId": 0, "playerName": entry["device"] or None})
    return {"nowPlaying": {"entry": entries}}


