"""Favourites (Subsonic's stars) of tracks, albums and artists."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from ..models import Favourite
from ..selectors import _iso, albums_by_ids, artists_by_ids, in_library, tracks_by_ids
from .shared import KINDS, _bool, _check_exists, _chunks, _kind, _lookup_ids, _whole


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


def favourite_list(user, *, library: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Everything the user starred, most recent first: ``{artists, albums, tracks}``, each item
    the catalogue dict plus ``starred_at``; with ``library`` (id), what has a track there."""
    starred: dict[str, dict[int, datetime]] = {kind: {} for kind in KINDS}
    for kind, track_id, album_id, artist_id, when in (
        Favourite.objects.filter(user=user).order_by("-starred_at", "-id")
        .values_list("kind", "track_id", "album_id", "artist_id", "starred_at")
    ):
        starred[kind][{"track": track_id, "album": album_id, "artist": artist_id}[kind]] = when
    if library is not None:
        for kind in KINDS:
            kept = in_library(kind, list(starred[kind]), library)
            starred[kind] = {pk: when for pk, when in starred[kind].items() if pk in kept}
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
    whole = _whole(Favourite.objects.filter(user=user, kind=kind).order_by().values_list(f"{kind}_id", "starred_at"), ids)
    if whole is not None:
        wanted = set(ids)
        return {object_id: _iso(when) for object_id, when in whole if object_id in wanted}
    result: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = Favourite.objects.filter(user=user, kind=kind, **{f"{kind}_id__in": chunk})
        result.update((object_id, _iso(when)) for object_id, when in rows.values_list(f"{kind}_id", "starred_at"))
    return result


def starred_albums(user, albums: QuerySet) -> tuple[QuerySet, tuple[str, ...]]:
    """Those of ``albums`` the user starred, and their order: the most recently starred first."""
    mine = Favourite.objects.filter(user=user, kind="album", album_id=OuterRef("pk")).values("starred_at")[:1]
    return albums.annotate(starred_at=Subquery(mine)).filter(starred_at__isnull=False), ("-starred_at", "-id")
