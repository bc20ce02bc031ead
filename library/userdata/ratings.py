"""Ratings (1 to 5) of tracks, albums and artists, and albums ranked by the user's rating."""
from __future__ import annotations

from typing import Any, Iterable

from django.db.models import OuterRef, QuerySet, Subquery

from ..models import Rating
from .shared import _check_exists, _chunks, _int, _kind, _lookup_ids, _whole, _window


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
    whole = _whole(Rating.objects.filter(user=user, kind=kind).order_by().values_list(f"{kind}_id", "rating"), ids)
    if whole is not None:
        wanted = set(ids)
        return {object_id: rating for object_id, rating in whole if object_id in wanted}
    result: dict[int, int] = {}
    for chunk in _chunks(ids):
        rows = Rating.objects.filter(user=user, kind=kind, **{f"{kind}_id__in": chunk})
        result.update(rows.values_list(f"{kind}_id", "rating"))
    return result


def rated_albums(user, albums: QuerySet) -> tuple[QuerySet, tuple[str, ...]]:
    """Those of ``albums`` the user rated, and their order: highest rated first, then the most
    recently rated, then by id."""
    mine = Rating.objects.filter(user=user, kind="album", album_id=OuterRef("pk"))
    rated = albums.annotate(my_rating=Subquery(mine.values("rating")[:1]), rated_at=Subquery(mine.values("updated")[:1]))
    return rated.filter(my_rating__isnull=False), ("-my_rating", "-rated_at", "id")


def album_ids_by_rating(user, albums: QuerySet, *, offset: int, size: int) -> list[int]:
    """Ids of those of ``albums`` the user rated, in ``rated_albums`` order: ``size`` of them
    from ``offset``."""
    offset, size = _window(offset, size)
    rated, ordering = rated_albums(user, albums)
    return list(rated.order_by(*ordering).values_list("id", flat=True)[offset:offset + size])
