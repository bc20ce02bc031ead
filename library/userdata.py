"""Per-user data every interface shares: playlists, favourites (stars), ratings, plays
(scrobbles and "now playing") and bookmarks.

Services (writes) and selectors (reads), named ``<entity>_<action>``. Each takes the acting
``user`` (a User instance), validates its arguments (REST, WebSocket and Subsonic call these
directly), and returns JSON-safe dicts; failures raise ``NotFound``, ``Forbidden`` or
``InvalidPayload`` from ``common.errors``. Catalogue objects inside the results use the
shapes of ``library.selectors`` (``_track``, ``_album``, ``_artist``).

Shapes:

- user reference: ``{id, username}``
- playlist: ``{id, name, comment, public, owner: user ref, track_count, duration_ms, created,
  updated, cover}`` (``cover``: the cover-art id of the first entry that has one, or null);
  ``playlist_get`` adds ``tracks`` (track dicts in playlist order); the writes add
  ``track_ids`` (the entries' track ids in order) instead.
- play: ``{id, track: track dict, played_at, device, submission}`` (``id`` null when only
  "now playing" was recorded).
- now playing: ``{user: user ref, device, track: track dict, started_at, minutes_ago}``.
- bookmark: ``{track: track dict, position_ms, comment, created, updated}``.

Album rankings (``album_ids_by_rating``, ``album_ids_by_plays``) return bare album ids, a
page of them, for the caller to build (Subsonic's getAlbumList types highest, frequent and
recent).

Playlist indexes are 0-based ranks in the playlist's order. Other users' private playlists
do not exist for the caller (``NotFound``); others' public playlists can be read, not
changed (``Forbidden``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any, Iterable, Iterator

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from common.errors import Forbidden, InvalidPayload, NotFound

from .models import (
    Album,
    Artist,
    Bookmark,
    Favourite,
    NowPlaying,
    Play,
    Playlist,
    PlaylistEntry,
    Rating,
    Track,
)
from .selectors import DEFAULT_LIMIT, _iso, _page, albums_by_ids, artists_by_ids, page_bounds, tracks_by_ids

KINDS = ("track", "album", "artist")
MODELS = {"track": Track, "album": Album, "artist": Artist}
MAX_ENTRIES = Playlist.MAX_ENTRIES
MAX_NAME = 500
MAX_COMMENT = 5000
MAX_DEVICE = 100
MAX_BOOKMARK_MS = 7 * 24 * 60 * 60 * 1000
MAX_POSITION = 2_000_000_000  # entry positions are renumbered from 0 before they reach this
# "Now playing" lasts the track's duration plus this margin (pauses, buffering), or
# NOW_PLAYING_UNKNOWN when the duration is unknown.
NOW_PLAYING_MARGIN = timedelta(minutes=5)
NOW_PLAYING_UNKNOWN = timedelta(minutes=10)
CHUNK = 500  # ids per IN (...) query
MAX_ID = 2**63 - 1  # the largest id either database stores
ALBUM_PLAY_ORDERS = ("frequent", "recent")  # album_ids_by_plays


# -- argument checks ------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _int(value: Any, what: str, *, low: int | None = None, high: int | None = None) -> int:
    if type(value) is not int:
        raise InvalidPayload(f"{what} must be an integer, not {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidPayload(f"{what} must be in {bounds}, not {value}.")
    return value


def _id(value: Any, what: str) -> int:
    """An object id (``what``: the kind of object); past the databases' range nothing exists."""
    _int(value, f"{what} id", low=1)
    if value > MAX_ID:
        raise NotFound(f"No {what} with id {value}.")
    return value


def _ids(values: Iterable[Any], what: str = "track") -> list[int]:
    if isinstance(values, (str, bytes, dict)):
        raise InvalidPayload(f"Send a list of {what} ids.")
    return [_id(value, what) for value in values]


def _lookup_ids(values: Iterable[Any], what: str) -> list[int]:
    """Distinct ids to look up, sorted; ids no row can have are left out."""
    if isinstance(values, (str, bytes, dict)):
        raise InvalidPayload(f"Send a list of {what} ids.")
    return sorted({_int(value, f"{what} id", low=1) for value in values if type(value) is not int or value <= MAX_ID})


def _window(offset: Any, size: Any) -> tuple[int, int]:
    """``(offset, size)`` of a page of ids, both integers >= 0."""
    return _int(offset, "offset", low=0), _int(size, "size", low=0)


def _kind(kind: Any) -> str:
    if kind not in KINDS:
        raise InvalidPayload(f"Unknown kind {kind!r}; use one of: {', '.join(KINDS)}.")
    return kind


def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidPayload(f"{what} must be a string.")
    value = value.strip()
    if required and not value:
        raise InvalidPayload(f"{what} must not be empty.")
    if len(value) > limit:
        raise InvalidPayload(f"{what} is too long: at most {limit} characters.")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayload(f"{what} must be true or false.")
    return value


def _check_exists(kind: str, object_id: Any) -> int:
    object_id = _id(object_id, kind)
    if not MODELS[kind].objects.filter(pk=object_id).exists():
        raise NotFound(f"No {kind} with id {object_id}.")
    return object_id


def check_tracks(track_ids: list[int]) -> None:
    """NotFound naming the first missing id, if any of these tracks does not exist.

    Every list of tracks a user adds (playlists, player and party queues) is checked here."""
    wanted = set(track_ids)
    found: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        found.update(Track.objects.playable().filter(pk__in=chunk).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NotFound(f"No track with id {missing[0]}{more}.", details={"missing": missing[:100]})


def _when(value: Any, now: datetime) -> datetime:
    """A play's time: now by default; naive times are UTC; a time ahead of the server's
    clock (a device clock running fast) counts as now."""
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise InvalidPayload("played_at must be a date and time.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return min(value, now)


def _user_ref(user) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}


def _one_track(track_id: int) -> Track:
    track = Track.objects.playable().filter(pk=track_id).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    return track


# -- playlists ------------------------------------------------------------------------------


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


# -- favourites (stars) ---------------------------------------------------------------------


def favourite_set(user, kind: str, object_id: int, starred: bool) -> dict[str, Any]:
    """Star (or unstar) a track, album or artist. Starring again keeps the first time."""
    kind = _kind(kind)
    object_id = _check_exists(kind, object_id)
    starred = _bool(starred, "starred")
    target = {f"{kind}_id": object_id}
    if not starred:
        Favourite.objects.filter(user=user, kind=kind, **target).delete()
        return {"kind": kind, "id": object_id, "starred": False, "starred_at": None}
    favourite, _ = Favourite.objects.get_or_create(user=user, kind=kind, **target, defaults={"starred_at": timezone.now()})
    return {"kind": kind, "id": object_id, "starred": True, "starred_at": _iso(favourite.starred_at)}


def favourite_list(user) -> dict[str, list[dict[str, Any]]]:
    """Everything the user starred, most recent first: ``{artists, albums, tracks}``, each item
    the catalogue dict plus ``starred_at``."""
    starred: dict[str, dict[int, datetime]] = {kind: {} for kind in KINDS}
    for kind, track_id, album_id, artist_id, when in (
        Favourite.objects.filter(user=user).order_by("-starred_at", "-id")
        .values_list("kind", "track_id", "album_id", "artist_id", "starred_at")
    ):
        starred[kind][{"track": track_id, "album": album_id, "artist": artist_id}[kind]] = when
    result = {}
    for key, kind, items in (("artists", "artist", artists_by_ids(list(starred["artist"]))),
                             ("albums", "album", albums_by_ids(list(starred["album"]))),
                             ("tracks", "track", tracks_by_ids(list(starred["track"])))):
        result[key] = [{**item, "starred_at": _iso(starred[kind][item["id"]])} for item in items]
    return result


def favourite_ids(user, kind: str, ids: Iterable[int]) -> dict[int, str]:
    """``{id: starred_at}`` for those of ``ids`` (of ``kind``) the user starred, to decorate lists."""
    kind = _kind(kind)
    ids = _lookup_ids(ids, kind)
    result: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = Favourite.objects.filter(user=user, kind=kind, **{f"{kind}_id__in": chunk})
        result.update((object_id, _iso(when)) for object_id, when in rows.values_list(f"{kind}_id", "starred_at"))
    return result


# -- ratings --------------------------------------------------------------------------------


def rating_set(user, kind: str, object_id: int, rating: int) -> dict[str, Any]:
    """Rate a track, album or artist 1 to 5; 0 clears the rating."""
    kind = _kind(kind)
    rating = _int(rating, "rating", low=0, high=5)
    object_id = _check_exists(kind, object_id)
    target = {f"{kind}_id": object_id}
    if rating == 0:
        Rating.objects.filter(user=user, kind=kind, **target).delete()
    else:
        Rating.objects.update_or_create(user=user, kind=kind, **target, defaults={"rating": rating})
    return {"kind": kind, "id": object_id, "rating": rating}


def rating_get_many(user, kind: str, ids: Iterable[int]) -> dict[int, int]:
    """``{id: rating}`` for those of ``ids`` (of ``kind``) the user rated."""
    kind = _kind(kind)
    ids = _lookup_ids(ids, kind)
    result: dict[int, int] = {}
    for chunk in _chunks(ids):
        rows = Rating.objects.filter(user=user, kind=kind, **{f"{kind}_id__in": chunk})
        result.update(rows.values_list(f"{kind}_id", "rating"))
    return result


def album_ids_by_rating(user, albums: QuerySet, *, offset: int, size: int) -> list[int]:
    """Ids of those of ``albums`` the user rated, highest rated first (then the most recently
    rated, then by id): ``size`` of them from ``offset``."""
    offset, size = _window(offset, size)
    rated = Rating.objects.filter(user=user, kind="album", album__in=albums).order_by("-rating", "-updated", "album_id")
    return list(rated.values_list("album_id", flat=True)[offset:offset + size])


# -- plays and now playing -----------------------------------------------------------------


def _tracks_of(rows) -> dict[int, dict[str, Any]]:
    """``{track id: track dict}`` for the ``track_id`` of each row (plays, bookmarks, ...)."""
    return {track["id"]: track for track in tracks_by_ids(sorted({row.track_id for row in rows}))}


def _play(play: Play, track: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": play.pk,
        "track": track,
        "played_at": _iso(play.played_at),
        "device": play.device,
        "submission": play.submission,
    }


def play_record(
    user,
    track_id: int,
    *,
    played_at: datetime | None = None,
    device: str = "",
    submission: bool = True,
) -> dict[str, Any]:
    """Record a play of a track (``submission``: a Play row, a scrobble), or with
    ``submission=False`` only that the user's ``device`` is playing it now (it shows in
    ``now_playing_list`` until the track's duration and a margin have passed)."""
    track = _one_track(_id(track_id, "track"))
    device = _text(device, "device", MAX_DEVICE)
    submission = _bool(submission, "submission")
    now = timezone.now()
    when = _when(played_at, now)
    if submission:
        play = Play.objects.create(user=user, track=track, played_at=when, device=device, submission=True)
        return _play(play, tracks_by_ids([track.pk])[0])
    length = timedelta(milliseconds=track.duration_ms) + NOW_PLAYING_MARGIN if track.duration_ms else NOW_PLAYING_UNKNOWN
    with transaction.atomic():
        NowPlaying.objects.filter(expires__lte=now).delete()  # upkeep: expired rows are never shown
        NowPlaying.objects.update_or_create(
            user=user, device=device, defaults={"track": track, "started_at": when, "expires": when + length}
        )
    return {"id": None, "track": tracks_by_ids([track.pk])[0], "played_at": _iso(when), "device": device,
            "submission": False}


def play_list(user, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """A page of the user's plays, most recent first."""
    offset, limit = page_bounds(offset, limit)
    plays = Play.objects.filter(user=user).order_by("-played_at", "-id")
    total = plays.count()
    rows = list(plays[offset:offset + limit]) if total > offset else []
    tracks = _tracks_of(rows)
    return _page([_play(play, tracks[play.track_id]) for play in rows], total, offset, limit)


def play_counts(user, track_ids: Iterable[int]) -> dict[int, int]:
    """``{track id: plays}`` for those of ``track_ids`` the user played (others left out)."""
    return {track_id: stats["count"] for track_id, stats in play_stats(user, track_ids).items()}


def play_stats(user, track_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{track id: {count, last_played}}`` for those of ``track_ids`` the user played."""
    ids = _lookup_ids(track_ids, "track")
    result: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        rows = (
            Play.objects.filter(user=user, track_id__in=chunk)
            .order_by()
            .values("track_id")
            .annotate(count=Count("id"), last=Max("played_at"))
        )
        result.update((row["track_id"], {"count": row["count"], "last_played": _iso(row["last"])}) for row in rows)
    return result


def album_ids_by_plays(user, albums: QuerySet, *, order: str, offset: int, size: int) -> list[int]:
    """Ids of those of ``albums`` the user played, ``size`` of them from ``offset``. ``order``:
    ``"frequent"`` (submitted plays of the album's tracks, most first, then the latest play,
    then by id) or ``"recent"`` (the latest play, submitted or not, first, then by id)."""
    if order not in ALBUM_PLAY_ORDERS:
        raise InvalidPayload(f"Unknown order {order!r}; use one of: {', '.join(ALBUM_PLAY_ORDERS)}.")
    offset, size = _window(offset, size)
    plays = Play.objects.filter(user=user, track__album__in=albums).values("track__album")
    if order == "frequent":
        ranked = plays.filter(submission=True).annotate(n=Count("id"), last=Max("played_at")).order_by("-n", "-last", "track__album")
    else:
        ranked = plays.annotate(last=Max("played_at")).order_by("-last", "track__album")
    return [row["track__album"] for row in ranked[offset:offset + size]]


def now_playing_list() -> list[dict[str, Any]]:
    """What every user's devices are playing now (not expired), most recently started first."""
    now = timezone.now()
    rows = list(NowPlaying.objects.filter(expires__gt=now).select_related("user").order_by("-started_at", "-id"))
    tracks = _tracks_of(rows)
    return [
        {
            "user": _user_ref(row.user),
            "device": row.device,
            "track": tracks[row.track_id],
            "started_at": _iso(row.started_at),
            "minutes_ago": max(0, int((now - row.started_at).total_seconds() // 60)),
        }
        for row in rows
    ]


# -- bookmarks ------------------------------------------------------------------------------


def _bookmark(bookmark: Bookmark, track: dict[str, Any]) -> dict[str, Any]:
    return {
        "track": track,
        "position_ms": bookmark.position_ms,
        "comment": bookmark.comment,
        "created": _iso(bookmark.created),
        "updated": _iso(bookmark.updated),
    }


def bookmark_list(user) -> list[dict[str, Any]]:
    """The user's bookmarks, most recently set first."""
    rows = list(Bookmark.objects.filter(user=user).order_by("-updated", "-id"))
    tracks = _tracks_of(rows)
    return [_bookmark(row, tracks[row.track_id]) for row in rows]


def bookmark_set(user, track_id: int, position_ms: int, comment: str = "") -> dict[str, Any]:
    """Create or move the user's bookmark in a track."""
    track = _one_track(_id(track_id, "track"))
    position_ms = _int(position_ms, "position_ms", low=0, high=MAX_BOOKMARK_MS)
    comment = _text(comment, "comment", MAX_COMMENT)
    bookmark, _ = Bookmark.objects.update_or_create(
        user=user, track=track, defaults={"position_ms": position_ms, "comment": comment}
    )
    return _bookmark(bookmark, tracks_by_ids([track.pk])[0])


def bookmark_delete(user, track_id: int) -> None:
    """Remove the user's bookmark in a track (nothing to do when there is none)."""
    track_id = _id(track_id, "track")
    deleted, _ = Bookmark.objects.filter(user=user, track_id=track_id).delete()
    if not deleted and not Track.objects.filter(pk=track_id).exists():
        raise NotFound(f"No track with id {track_id}.")
