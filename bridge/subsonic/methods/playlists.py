"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist.

Another user's private playlist does not exist for the caller (error 70); another user's
public playlist can be read but not changed (error 50): ``library.userdata`` decides.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from library.userdata import playlists

from .. import ids, shapes
from ..responses import ERROR_NOT_AUTHORIZED, MissingParameter, NotFoundError, SubsonicError
from . import Call, method


def playlist_element(playlist: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids.playlist(playlist["id"]),
        "name": playlist["name"],
        "comment": playlist["comment"] or None,
        "owner": playlist["owner"]["username"],
        "public": playlist["public"],
        "songCount": playlist["track_count"],
        "duration": shapes.seconds(playlist["duration_ms"]),
        "created": shapes.iso(playlist["created"]),
        "changed": shapes.iso(playlist["updated"]),
        "coverArt": ids.cover(playlist.get("cover")),
    }


def _with_entries(call: Call, playlist: dict[str, Any]) -> dict[str, Any]:
    marks = shapes.marks_for(call.user, tracks=playlist["tracks"])
    return {**playlist_element(playlist), "entry": [shapes.song(track, marks) for track in playlist["tracks"]]}


def _track_ids(call: Call, name: str) -> list[int]:
    return [ids.parse(value, ids.TRACK) for value in call.params.getlist(name)]


@method("getPlaylists")
def get_playlists(call: Call) -> dict[str, Any]:
    """The caller's playlists and everyone's public ones; staff may name another ``username``."""
    username = call.params.get("username")
    if not username or username == call.user.get_username():
        return {"playlists": {"playlist": [playlist_element(p) for p in playlists.playlist_list(call.user)]}}
    if not call.user.is_staff:
        raise SubsonicError(ERROR_NOT_AUTHORIZED, "Only staff users can list another user's playlists.")
    other = get_user_model().objects.filter(username=username).first()
    if other is None:
        raise NotFoundError(f"No user {username!r}.")
    owned = [p for p in playlists.playlist_list(other) if p["owner"]["id"] == other.pk]
    return {"playlists": {"playlist": [playlist_element(p) for p in owned]}}


@method("getPlaylist")
def get_playlist(call: Call) -> dict[str, Any]:
    playlist = playlists.playlist_get(call.user, ids.parse(call.params.required("id"), ids.PLAYLIST))
    return {"playlist": _with_entries(call, playlist)}


@method("createPlaylist")
def create_playlist(call: Call) -> dict[str, Any]:
    """A new playlist (``name``), or with ``playlistId`` that playlist's songs replaced."""
    songs = _track_ids(call, "songId")
    playlist_id = call.params.get("playlistId")
    name = call.params.get("name")
    if playlist_id:
        pk = ids.parse(playlist_id, ids.PLAYLIST)
        with transaction.atomic():
            current = playlists.playlist_get(call.user, pk)
            playlists.playlist_update(call.user, pk, name=name or None, add_track_ids=songs,
                                     remove_indexes=range(len(current["tracks"])))
    elif name:
        pk = playlists.playlist_create(call.user, name, track_ids=songs)["id"]
    else:
        raise MissingParameter("name or playlistId")
    return {"playlist": _with_entries(call, playlists.playlist_get(call.user, pk))}


@method("updatePlaylist")
def update_playlist(call: Call) -> dict[str, Any]:
    params = call.params
    playlists.playlist_update(
        call.user,
        ids.parse(params.required("playlistId"), ids.PLAYLIST),
        name=params.get("name"),
        comment=params.get("comment"),
        public=params.bool("public"),
        add_track_ids=_track_ids(call, "songIdToAdd"),
        remove_indexes=params.ints("songIndexToRemove"),
    )
    return {}


@method("deletePlaylist")
def delete_playlist(call: Call) -> dict[str, Any]:
    playlists.playlist_delete(call.user, ids.parse(call.params.required("id"), ids.PLAYLIST))
    return {}
