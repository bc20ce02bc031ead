"""Playlists: a user's own, and other users' public ones.

Shapes: a playlist is ``{id, name, comment, public, owner: user ref, track_count,
duration_ms, created, updated, cover}`` (``cover``: the cover-art id of the first entry that
has one, or null); ``playlist_get`` adds ``tracks`` (track dicts in playlist order); the
writes add ``track_ids`` (the entries' track ids in order) instead.

Playlist indexes are 0-based ranks in the playlist's order. Other users' private playlists
do not exist for the caller (``NotFound``); others' public playlists can be read, not
changed (``Forbidden``).
"""
from __future__ import annotations

from typing import Any, Iterable

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower

from common.errors import Forbidden, InvalidPayload, NotFound

from ..models import Playlist, PlaylistEntry
from ..selectors import _iso, tracks_by_ids
from .shared import CHUNK, MAX_COMMENT, _bool, _chunks, _id, _ids, _int, _text, _user_ref, check_tracks

MAX_ENTRIES = Playlist.MAX_ENTRIES
MAX_NAME = 500
MAX_POSITION = 2_000_000_000  # entry positions are renumbered from 0 before they reach this


def _playlists() -> QuerySet:
    first_cover = (
        PlaylistEntry.objects.filter(playlist=OuterRef("pk"))
        .annotate(art=Coalesce("track__cover_id", "track__album__cover_id"))
        .filter(art__isnull=False)
        .order_by("position")
        .values("art")[:1]
    )
    return Playlist.objects.select_related("owner").annotate(
        entry_count=Count("entries"),
        total_ms=Coalesce(Sum("entries__track__duration_ms"), Value(0)),
        cover_art=Subquery(first_cover),
    )


def _playlist(playlist: Playlist) -> dict[str, Any]:
    return {
        "id": playlist.pk,
        "name": playlist.name,
        "comment": playlist.comment,
        "public": playlist.public,
        "owner": _user_ref(playlist.owner),
        "track_count": playlist.entry_count,
        "duration_ms": playlist.total_ms,
        "created": _iso(playlist.created),
        "updated": _iso(playlist.updated),
        "cover": playlist.cover_art,
    }


def _visible(user) -> Q:
    return Q(owner=user) | Q(public=True)


def _load(user, playlist_id: Any, *, write: bool = False) -> Playlist:
    """The playlist if ``user`` may see it (and change it, with ``write``); locks it for writes."""
    playlist_id = _id(playlist_id, "playlist")
    rows = Playlist.objects.filter(pk=playlist_id)
    playlist = (rows.select_for_update() if write else rows).first()
    if playlist is None or (playlist.owner_id != user.pk and not playlist.public):
        raise NotFound(f"No playlist with id {playlist_id}.")
    if write and playlist.owner_id != user.pk:
        raise Forbidden("Only its owner can change this playlist; copy it into a playlist of your own.")
    return playlist


def _entries(playlist: Playlist) -> list[tuple[int, int, int]]:
    """``(entry id, track id, position)`` in playlist order."""
    return list(playlist.entries.order_by("position").values_list("pk", "track_id", "position"))


def _check_size(count: int) -> None:
    if count > MAX_ENTRIES:
        raise InvalidPayload(f"A playlist holds at most {MAX_ENTRIES:,} tracks; this change would make it {count:,}.")


def _delete_entries(entry_ids: list[int]) -> None:
    for chunk in _chunks(entry_ids):
        PlaylistEntry.objects.filter(pk__in=chunk).delete()


def _create_entries(playlist: Playlist, track_ids: list[int], positions: Iterable[int]) -> None:
    PlaylistEntry.objects.bulk_create(
        [PlaylistEntry(playlist=playlist, track_id=t, position=p) for t, p in zip(track_ids, positions)],
        batch_size=CHUNK,
    )


def _replace_from(playlist: Playlist, entries: list[tuple[int, int, int]], index: int, track_ids: list[int]) -> None:
    """Make ``track_ids`` the entries from rank ``index`` on (positions after the entry before it)."""
    start = entries[index - 1][2] + 1 if index > 0 else 0
    if start + len(track_ids) > MAX_POSITION:  # positions grew through many appends: renumber all
        track_ids = [entry[1] for entry in entries[:index]] + track_ids
        index, start = 0, 0
    _delete_entries([entry[0] for entry in entries[index:]])
    _create_entries(playlist, track_ids, range(start, start + len(track_ids)))


def _insert(playlist: Playlist, entries: list[tuple[int, int, int]], track_ids: list[int], position: int | None) -> None:
    if not track_ids:
        return
    _check_size(len(entries) + len(track_ids))
    if position is None or position == len(entries):
        start = entries[-1][2] + 1 if entries else 0
        if start + len(track_ids) <= MAX_POSITION:  # the common case: append without touching the rest
            _create_entries(playlist, track_ids, range(start, start + len(track_ids)))
            return
        position = len(entries)
    _replace_from(playlist, entries, position, track_ids + [entry[1] for entry in entries[position:]])


def _indexes(values: Iterable[Any], count: int, what: str = "index") -> list[int]:
    if isinstance(values, (str, bytes, dict)):
        raise InvalidPayload(f"Send a list of {what}es.")
    indexes = sorted({_int(value, what, low=0) for value in values})
    if indexes and indexes[-1] >= count:
        raise InvalidPayload(f"No entry at index {indexes[-1]}; the playlist has {count} tracks (indexes 0..{count - 1}).")
    return indexes


def _touch(playlist: Playlist) -> None:
    playlist.save(update_fields=["updated"])  # auto_now stamps it


def _changed(playlist: Playlist) -> dict[str, Any]:
    """What the writes return: the playlist summary and its entries' track ids in order."""
    fresh = _playlists().get(pk=playlist.pk)
    track_ids = list(playlist.entries.order_by("position").values_list("track_id", flat=True))
    return {**_playlist(fresh), "track_ids": track_ids}


def playlist_list(user) -> list[dict[str, Any]]:
    """The user's own playlists and other users' public ones, by name."""
    playlists = _playlists().filter(_visible(user)).order_by(Lower("name"), "id")
    return [_playlist(playlist) for playlist in playlists]


def playlist_get(user, playlist_id: int) -> dict[str, Any]:
    """A playlist the user may see, with ``tracks`` (track dicts) in playlist order."""
    _load(user, playlist_id)
    playlist = _playlists().get(pk=playlist_id)
    track_ids = list(playlist.entries.order_by("position").values_list("track_id", flat=True))
    return {**_playlist(playlist), "tracks": tracks_by_ids(track_ids)}


def playlist_create(user, name: str, *, track_ids: Iterable[int] = (), comment: str = "", public: bool = False) -> dict[str, Any]:
    """A new playlist of the user's, holding ``track_ids`` in that order."""
    name = _text(name, "name", MAX_NAME, required=True)
    comment = _text(comment, "comment", MAX_COMMENT)
    public = _bool(public, "public")
    track_ids = _ids(track_ids)
    _check_size(len(track_ids))
    check_tracks(track_ids)
    with transaction.atomic():
        playlist = Playlist.objects.create(owner=user, name=name, comment=comment, public=public)
        _create_entries(playlist, track_ids, range(len(track_ids)))
    return _changed(playlist)


def playlist_update(
    user,
    playlist_id: int,
    *,
    name: str | None = None,
    comment: str | None = None,
    public: bool | None = None,
    add_track_ids: Iterable[int] = (),
    remove_indexes: Iterable[int] = (),
) -> dict[str, Any]:
    """Change a playlist of the user's: rename, comment, share; remove the entries at
    ``remove_indexes`` (indexes before the change) then append ``add_track_ids``."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _text(name, "name", MAX_NAME, required=True)
    if comment is not None:
        changes["comment"] = _text(comment, "comment", MAX_COMMENT)
    if public is not None:
        changes["public"] = _bool(public, "public")
    add_track_ids = _ids(add_track_ids)
    check_tracks(add_track_ids)
    with transaction.atomic():
        playlist = _load(user, playlist_id, write=True)
        entries = _entries(playlist)
        remove = _indexes(remove_indexes, len(entries))
        _delete_entries([entries[i][0] for i in remove])
        removed = set(remove)
        _insert(playlist, [e for i, e in enumerate(entries) if i not in removed], add_track_ids, None)
        for field, value in changes.items():
            setattr(playlist, field, value)
        playlist.save(update_fields=[*changes, "updated"])
    return _changed(playlist)


def playlist_add(user, playlist_id: int, track_ids: Iterable[int], *, position: int | None = None) -> dict[str, Any]:
    """Insert tracks at index ``position`` (0 = first, the track count or None = append)."""
    track_ids = _ids(track_ids)
    check_tracks(track_ids)
    with transaction.atomic():
        playlist = _load(user, playlist_id, write=True)
        entries = _entries(playlist)
        if position is not None:
            _int(position, "position", low=0, high=len(entries))
        _insert(playlist, entries, track_ids, position)
        _touch(playlist)
    return _changed(playlist)


def playlist_remove(user, playlist_id: int, indexes: Iterable[int]) -> dict[str, Any]:
    """Remove the entries at these indexes (indexes before the change; repeats count once)."""
    with transaction.atomic():
        playlist = _load(user, playlist_id, write=True)
        entries = _entries(playlist)
        _delete_entries([entries[i][0] for i in _indexes(indexes, len(entries))])
        _touch(playlist)
    return _changed(playlist)


def playlist_move(user, playlist_id: int, from_index: int, to_index: int) -> dict[str, Any]:
    """Move the entry at ``from_index`` so that it ends up at ``to_index``."""
    with transaction.atomic():
        playlist = _load(user, playlist_id, write=True)
        entries = _entries(playlist)
        if not entries:
            raise InvalidPayload("The playlist is empty: there is nothing to move.")
        last = len(entries) - 1
        from_index = _int(from_index, "from_index", low=0, high=last)
        to_index = _int(to_index, "to_index", low=0, high=last)
        if from_index != to_index:
            low, high = min(from_index, to_index), max(from_index, to_index)
            span = entries[low:high + 1]
            order = [entry[1] for entry in span]
            order.insert(to_index - low, order.pop(from_index - low))
            # The span keeps its positions; only its tracks change places.
            _delete_entries([entry[0] for entry in span])
            _create_entries(playlist, order, [entry[2] for entry in span])
            _touch(playlist)
    return _changed(playlist)


def playlist_delete(user, playlist_id: int) -> None:
    """Delete a playlist of the user's."""
    with transaction.atomic():
        _load(user, playlist_id, write=True).delete()
