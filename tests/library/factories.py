"""Small helpers that create catalogue rows directly through the ORM, keys filled like a scan.

Plain functions so they also work in a ``manage.py shell`` subprocess (the PostgreSQL
search tests): ``from tests.library import factories as f``.
"""
from __future__ import annotations

import hashlib
import itertools
from typing import Iterable

from library.models import Album, Artist, CoverArt, Genre, Library, ScanRun, Track, TrackArtist
from library.text import search_key, sort_key

_seq = itertools.count(1)


def library(name: str = "Music", root: str | None = None, **fields) -> Library:
    return Library.objects.create(name=name, root=root or f"/srv/music/{name.lower()}-{next(_seq)}", **fields)


def artist(name: str, **fields) -> Artist:
    existing = Artist.objects.filter(name=name).first()
    if existing is not None:
        return existing
    fields.setdefault("sort_name", sort_key(name))
    fields.setdefault("search_key", search_key(name))
    return Artist.objects.create(name=name, **fields)


def genre(name: str) -> Genre:
    return Genre.objects.get_or_create(name=name)[0]


def cover(seed: str = "", mime: str = "image/jpeg", size: int = 1234) -> CoverArt:
    digest = hashlib.sha256((seed or str(next(_seq))).encode()).hexdigest()
    return CoverArt.objects.get_or_create(sha256=digest, defaults={"mime": mime, "size": size, "width": 1, "height": 1})[0]


def album(title: str, by: str | Artist = "Various Artists", *, genres: Iterable[str] = (), **fields) -> Album:
    album_artist = by if isinstance(by, Artist) else artist(by)
    fields.setdefault("sort_title", sort_key(title))
    fields.setdefault("search_key", search_key(title, album_artist.name))
    made = Album.objects.create(title=title, album_artist=album_artist, **fields)
    if genres:
        made.genres.set([genre(name) for name in genres])
    return made


def track(
    title: str,
    on: Album,
    *,
    artists: Iterable[str | Artist] | None = None,
    lib: Library | None = None,
    number: int | None = None,
    disc: int | None = 1,
    genres: Iterable[str] = (),
    **fields,
) -> Track:
    """A track on album ``on``, by ``artists`` (default: the album artist)."""
    people = [a if isinstance(a, Artist) else artist(a) for a in (artists or [on.album_artist])]
    display = ", ".join(a.name for a in people)
    n = next(_seq)
    fields.setdefault("path", f"{on.album_artist.name}/{on.title}/{n:04d} {title}.mp3")
    fields.setdefault("size", 1000 + n)
    fields.setdefault("mtime_ns", n)
    fields.setdefault("fingerprint", f"fp{n}")
    fields.setdefault("format", "mp3")
    fields.setdefault("codec", "mp3")
    fields.setdefault("duration_ms", 180_000)
    fields.setdefault("sort_title", sort_key(title))
    fields.setdefault("search_key", search_key(title, display))
    made = Track.objects.create(
        library=lib or Library.objects.first() or library(),
        title=title,
        artist_display=display,
        album=on,
        track_number=number,
        disc_number=disc,
        **fields,
    )
    TrackArtist.objects.bulk_create(TrackArtist(track=made, artist=a, position=i) for i, a in enumerate(people))
    if genres:
        made.genres.set([genre(name) for name in genres])
    return made


def tracks_with_ids(ids: Iterable[int]) -> list[Track]:
    """Tracks with these ids (queues take only tracks that exist), on one album."""
    on = album(f"Album {next(_seq)}")
    return [track(f"Track {n}", on, id=n) for n in ids]


def scan_run(lib: Library, **fields) -> ScanRun:
    fields.setdefault("trigger", "manual")
    return ScanRun.objects.create(library=lib, **fields)
