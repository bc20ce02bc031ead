"""Removing what no track refers to any more: artists, genres, and albums without tracks."""
from __future__ import annotations

import logging
from typing import Iterable

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.deletion import ProtectedError

from library.models import Album, Artist, Genre, Track, TrackArtist

logger = logging.getLogger(__name__)


def _sweep(model, ids: Iterable[int] | None, *references: QuerySet) -> None:
    """Delete the rows of ``model`` that none of ``references`` (querysets filtered on the
    outer row) refers to, among ``ids`` (None: all of them)."""
    query = model.objects.all()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        query = query.filter(pk__in=ids)
    for reference in references:
        query = query.exclude(Exists(reference))
    try:
        query.delete()
    except ProtectedError:
        logger.warning("some %s without tracks are referenced elsewhere; kept", model._meta.verbose_name_plural)


def sweep_artists(ids: Iterable[int] | None = None) -> None:
    """Delete artists nobody refers to (no album, no track), among ``ids`` (None: all artists)."""
    _sweep(Artist, ids, Album.objects.filter(album_artist_id=OuterRef("pk")),
           TrackArtist.objects.filter(artist_id=OuterRef("pk")))


def sweep_genres(ids: Iterable[int] | None = None) -> None:
    """Delete genres no track or album has, among ``ids`` (None: all genres)."""
    _sweep(Genre, ids, Track.genres.through.objects.filter(genre_id=OuterRef("pk")),
           Album.genres.through.objects.filter(genre_id=OuterRef("pk")))


def sweep_catalogue() -> None:
    """Remove albums without tracks, then artists and genres nobody refers to."""
    _sweep(Album, None, Track.objects.filter(album_id=OuterRef("pk")))
    sweep_artists()
    sweep_genres()
