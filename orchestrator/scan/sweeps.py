"""Removing what no track refers to any more: artists, genres, and albums without tracks."""
from __future__ import annotations

import logging
from typing import Iterable

from django.db.models import Exists, OuterRef
from django.db.models.deletion import ProtectedError

from library.models import Album, Artist, Genre, Track, TrackArtist

logger = logging.getLogger(__name__)


def sweep_artists(ids: Iterable[int] | None = None) -> None:
    """Delete artists nobody refers to (no album, no track), among ``ids`` (None: all artists)."""
    query = Artist.objects.all()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        query = query.filter(pk__in=ids)
    try:
        query.exclude(Exists(Album.objects.filter(album_artist_id=OuterRef("pk")))).exclude(
            Exists(TrackArtist.objects.filter(artist_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some artists without tracks are referenced elsewhere; kept")


def sweep_genres(ids: Iterable[int] | None = None) -> None:
    """Delete genres no track or album has, among ``ids`` (None: all genres)."""
    query = Genre.objects.all()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        query = query.filter(pk__in=ids)
    try:
        query.exclude(Exists(Track.genres.through.objects.filter(genre_id=OuterRef("pk")))).exclude(
            Exists(Album.genres.through.objects.filter(genre_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some genres without tracks are referenced elsewhere; kept")


def sweep_catalogue() -> None:
    """Remove albums without tracks, then artists and genres nobody refers to."""
    try:
        Album.objects.exclude(Exists(Track.objects.filter(album_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some albums without tracks are referenced elsewhere; kept")
    sweep_artists()
    sweep_genres()
