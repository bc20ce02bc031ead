"""Writing one scan's parsed files to the catalogue (``CatalogueWriter``).

The scan hands it batches of ``(Todo, Parsed)``; in the caller's transaction it writes
them with multi-row statements (``bulk``): tracks, artists/albums/genres (got or created,
cached for the scan), cover rows, track artists and genres, and the aggregates of every
album the batch touched (track count, duration, disc count, year, genres, cover).

**Covers.** A track's cover is its embedded picture. An album's cover is the image of
its folder (``walk.cover_folders``: its folder, and for a disc folder such as "CD 2"
its parent), else the embedded cover of its first track that has one.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Iterable

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Sum
from django.db.models.deletion import ProtectedError

from library import covers
from library.files import path_to_text, text_to_path
from library.models import Album, Artist, Genre, Track, TrackArtist
from library.text import clean

from .bulk import db_now, insert_rows, update_rows
from .parse import Parsed, Unreadable, cached_search_key, cached_sort_key, read_folder_image
from .sweeps import sweep_artists, sweep_genres
from .walk import cover_folders, join

logger = logging.getLogger(__name__)

IN_CHUNK = 500  # ids per "IN (...)" list (SQLite limits the parameters of a statement)


@dataclass
class Todo:
    """A walked file to parse and write."""

    rel: str  # os-level relative path
    text: str  # stored form
    size: int
    mtime_ns: int
    existing: int | None  # Track id when the path is catalogued
    old_album: int | None
    moved_from: str | None = None


# Written from a Parsed (UPDATE: these then the id; INSERT: "library" + these + "created").
TRACK_FIELDS = [
    "path", "size", "mtime_ns", "fingerprint", "format", "codec", "duration_ms", "bitrate", "sample_rate",
    "channels", "title", "sort_title", "artist_display", "album", "track_number", "track_total",
    "disc_number", "disc_total", "year", "musicbrainz_track_id", "musicbrainz_album_id",
    "musicbrainz_artist_id", "replaygain_track_gain", "replaygain_track_peak", "replaygain_album_gain",
    "replaygain_album_peak", "lyrics", "cover", "search_key", "updated",
]
TRACK_INSERT_FIELDS = ["library", *TRACK_FIELDS, "created"]
ALBUM_AGGREGATES = ["track_count", "duration_ms", "disc_count", "year", "cover"]


class CatalogueWriter:
    """Writes one scan's files to the catalogue; the ids it looked up or created are kept for the scan.

    ``counters`` (the scan's) get ``added``, ``updated`` and ``removed``; ``error(path,
    message)`` records what could not be used. ``folder_images`` is the walk's
    ``{folder: (image name, mtime_ns)}``.
    """

    def __init__(self, library_id: int, root: str, folder_images: dict[str, tuple[str, int]],
                 counters: dict[str, int], error: Callable[[str, str], None]) -> None:
        self.library_id = library_id
        self.root = root
        self.folder_images = folder_images
        self.counters = counters
        self.error = error
        self.refreshed: set[int] = set()  # albums whose aggregates this scan recomputed
        self._artists: dict[str, int] = {}
        self._albums: dict[tuple[int, str], int] = {}
        self._genres: dict[str, int] = {}
        self._folder_covers: dict[str, int | None] = {}

    def store_folder_covers(self, images: dict[str, covers.CoverFile | Unreadable]) -> None:
        """Rows for the folder images parsed since the last write; their folders' cover ids noted."""
        if not images:
            return
        found = {folder: result for folder, result in images.items() if isinstance(result, covers.CoverFile)}
        for folder, result in images.items():
            if isinstance(result, Unreadable):
                self.error(path_to_text(join(folder, self.folder_images[folder][0])), result.reason)
        with transaction.atomic():
            ids = covers.cover_rows(found.values())
        for folder in images:
            self._folder_covers[folder] = ids.get(found[folder].sha256) if folder in found else None
        images.clear()

    def write_tracks(self, good: list[tuple[Todo, Parsed]]) -> None:
        """Insert or update these tracks, with what they refer to (in the caller's transaction)."""
        artists = self._artist_ids(good)
        genres = self._genre_ids({g for _, p in good for g in p.genres})
        albums = self._album_ids(good, artists)
        cover_ids = covers.cover_rows(p.cover for _, p in good if p.cover is not None)
        now = db_now()
        library_id = self.library_id
        inserts: list[list] = []
        updates: list[list] = []
        links: list[tuple[Todo, Parsed]] = []
        touched_albums: set[int] = set()
        for entry, p in good:
            album_id = albums[(artists[p.album_artist], p.album)]
            touched_albums.add(album_id)
            row = [
                entry.text, entry.size, entry.mtime_ns, p.fingerprint, p.format, p.codec, p.duration_ms, p.bitrate,
                p.sample_rate, p.channels, p.title, p.sort_title, p.artist_display, album_id, p.track_number,
                p.track_total, p.disc_number, p.disc_total, p.year, p.musicbrainz_track_id, p.musicbrainz_album_id,
                p.musicbrainz_artist_id, p.replaygain_track_gain, p.replaygain_track_peak, p.replaygain_album_gain,
                p.replaygain_album_peak, p.lyrics, cover_ids.get(p.cover.sha256) if p.cover else None, p.search_key,
                now,
            ]
            if entry.existing is None:
                inserts.append([library_id, *row, now])
            else:
                updates.append([*row, entry.existing])
                if entry.old_album is not None:
                    touched_albums.add(entry.old_album)
            links.append((entry, p))
        GenreLink = Track.genres.through
        old_artists: set[int] = set()
        old_genres: set[int] = set()
        if updates:
            changed_ids = [row[-1] for row in updates]
            old_artists.update(TrackArtist.objects.filter(track_id__in=changed_ids).values_list("artist_id", flat=True))
            old_genres.update(GenreLink.objects.filter(track_id__in=changed_ids).values_list("genre_id", flat=True))
            TrackArtist.objects.filter(track_id__in=changed_ids).delete()
            GenreLink.objects.filter(track_id__in=changed_ids).delete()
            update_rows(Track, TRACK_FIELDS, updates)
        if inserts:
            new_ids = dict(insert_rows(Track, TRACK_INSERT_FIELDS, inserts, returning=["path", "id"]))
            for entry, _ in links:
                if entry.existing is None:
                    entry.existing = new_ids[entry.text]
        artist_rows = []
        genre_rows = []
        for entry, p in links:
            for position, name in enumerate(p.artists):
                artist_rows.append((entry.existing, artists[name], position))
            for name in p.genres:
                genre_rows.append((entry.existing, genres[name]))
        insert_rows(TrackArtist, ["track", "artist", "position"], artist_rows)
        insert_rows(GenreLink, ["track", "genre"], genre_rows)
        self.counters["added"] += len(inserts)
        self.counters["updated"] += len(updates)
        self.refresh_albums(touched_albums)
        if updates:
            sweep_artists(old_artists)
            sweep_genres(old_genres)

    def _artist_ids(self, good: list[tuple[Todo, Parsed]]) -> dict[str, int]:
        wanted: dict[str, str] = {}  # name -> MusicBrainz id for a new row
        for _, p in good:
            for i, name in enumerate(p.artists):
                if name not in self._artists and not wanted.get(name):
                    wanted[name] = p.artist_mbid if i == 0 else ""
            if p.album_artist not in self._artists and not wanted.get(p.album_artist):
                wanted[p.album_artist] = p.album_artist_mbid
        if wanted:
            missing = list(wanted)
            self._artists.update(Artist.objects.filter(name__in=missing).values_list("name", "id"))
            create = [n for n in missing if n not in self._artists]
            if create:
                now = db_now()
                insert_rows(Artist, ["name", "sort_name", "search_key", "musicbrainz_id", "created"], [
                    (n, clean(cached_sort_key(n), 500), clean(cached_search_key(n), 500), wanted[n], now) for n in create
                ], ignore_conflicts=True)
                self._artists.update(Artist.objects.filter(name__in=create).values_list("name", "id"))
        return self._artists

    def _genre_ids(self, names: set[str]) -> dict[str, int]:
        missing = [n for n in names if n not in self._genres]
        if missing:
            self._genres.update(Genre.objects.filter(name__in=missing).values_list("name", "id"))
            create = [n for n in missing if n not in self._genres]
            if create:
                insert_rows(Genre, ["name"], [(n,) for n in create], ignore_conflicts=True)
                self._genres.update(Genre.objects.filter(name__in=create).values_list("name", "id"))
        return self._genres

    def _album_ids(self, good: list[tuple[Todo, Parsed]], artists: dict[str, int]) -> dict[tuple[int, str], int]:
        wanted: dict[tuple[int, str], Parsed] = {}
        for _, p in good:
            key = (artists[p.album_artist], p.album)
            if key not in self._albums:
                wanted.setdefault(key, p)
        if wanted:
            missing = list(wanted)
            self._load_albums(missing)
            create = [k for k in missing if k not in self._albums]
            if create:
                now = db_now()
                rows = []
                for artist_id, title in create:
                    p = wanted[(artist_id, title)]
                    rows.append((title, clean(cached_sort_key(title), 500), artist_id, p.year, p.compilation, 1, 0, 0,
                                 p.musicbrainz_album_id, clean(cached_search_key(title, p.album_artist), 1000), now))
                insert_rows(Album, ["title", "sort_title", "album_artist", "year", "compilation", "disc_count",
                                    "track_count", "duration_ms", "musicbrainz_id", "search_key", "created"],
                            rows, ignore_conflicts=True)
                self._load_albums(create)
        return self._albums

    def _load_albums(self, keys: list[tuple[int, str]]) -> None:
        wanted = set(keys)
        artists = sorted({artist_id for artist_id, _ in keys})
        for start in range(0, len(artists), IN_CHUNK):  # by artist: the (album_artist, title) index answers
            for pk, artist_id, title in Album.objects.filter(album_artist_id__in=artists[start:start + IN_CHUNK]).values_list(
                    "id", "album_artist_id", "title"):
                if (artist_id, title) in wanted:
                    self._albums[(artist_id, title)] = pk

    def refresh_albums(self, ids: Iterable[int]) -> None:
        """Recompute the aggregates of these albums; delete the ones left without tracks."""
        todo = sorted({i for i in ids if i is not None})
        for start in range(0, len(todo), IN_CHUNK):
            self._refresh_some_albums(todo[start:start + IN_CHUNK])

    def _refresh_some_albums(self, ids_list: list[int]) -> None:
        ids = set(ids_list)
        if not ids:
            return
        self.refreshed |= ids
        stats = {
            row["album_id"]: row for row in Track.objects.filter(album_id__in=ids_list).order_by().values("album_id")
            .annotate(n=Count("id"), duration=Sum("duration_ms"), disc=Max("disc_number"), discs=Max("disc_total"),
                      year=Min("year"))
        }
        empty = ids - stats.keys()
        if empty:
            artists = set(Album.objects.filter(pk__in=empty).values_list("album_artist_id", flat=True))
            try:
                Album.objects.filter(pk__in=empty).exclude(Exists(Track.objects.filter(album_id=OuterRef("pk")))).delete()
            except ProtectedError:
                logger.warning("albums %s are referenced elsewhere; kept", sorted(empty))
            for key in [k for k, v in self._albums.items() if v in empty]:
                del self._albums[key]
            sweep_artists(artists)
        firsts: dict[int, tuple] = {}
        covered: dict[int, int] = {}
        rows = Track.objects.filter(album_id__in=list(stats)).values_list(
            "album_id", "disc_number", "track_number", "path", "cover_id")
        for album_id, disc, number, path, cover_id in sorted(rows, key=lambda r: (r[0], r[1] or 0, r[2] or 0, r[3])):
            firsts.setdefault(album_id, (path, cover_id))
            if cover_id is not None:
                covered.setdefault(album_id, cover_id)
        updates = []
        for album_id, row in stats.items():
            cover = self._folder_cover(firsts[album_id][0])
            updates.append([row["n"], row["duration"] or 0, max(row["disc"] or 1, row["discs"] or 1), row["year"],
                            cover if cover is not None else covered.get(album_id), album_id])
        update_rows(Album, ALBUM_AGGREGATES, updates)
        GenreLink = Album.genres.through
        GenreLink.objects.filter(album_id__in=list(stats)).delete()
        pairs = (Track.genres.through.objects.filter(track__album_id__in=list(stats)).order_by()
                 .values_list("track__album_id", "genre_id").distinct())
        insert_rows(GenreLink, ["album", "genre"], list(pairs))

    def _folder_cover(self, track_path: str) -> int | None:
        """The CoverArt id of the folder image next to this track (or in its parent, for disc folders)."""
        for folder in cover_folders(os.path.dirname(text_to_path(track_path))):
            if folder not in self._folder_covers:  # not read by the parsers: read it here
                image = self.folder_images.get(folder)
                cover_id = None
                if image is not None:
                    result = read_folder_image(os.path.join(self.root, folder, image[0]))
                    if isinstance(result, Unreadable):
                        self.error(path_to_text(join(folder, image[0])), result.reason)
                    else:
                        cover_id = covers.cover_row(result).pk
                self._folder_covers[folder] = cover_id
            if self._folder_covers[folder] is not None:
                return self._folder_covers[folder]
        return None

    def delete_tracks(self, ids: list[int]) -> None:
        """Delete these tracks, refresh their albums, sweep what they alone referred to (in the caller's transaction)."""
        albums = set(Track.objects.filter(pk__in=ids).values_list("album_id", flat=True))
        artists = set(TrackArtist.objects.filter(track_id__in=ids).values_list("artist_id", flat=True))
        genres = set(Track.genres.through.objects.filter(track_id__in=ids).values_list("genre_id", flat=True))
        deleted = Track.objects.filter(pk__in=ids).delete()[1].get(Track._meta.label, 0)
        self.counters["removed"] += deleted
        self.refresh_albums(albums)
        sweep_artists(artists)
        sweep_genres(genres)

