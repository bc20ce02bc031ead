"""The scan's bulk SQL (``orchestrator.scan.bulk``), the only code on the database backend's
internals: the same statements on SQLite (here) and on PostgreSQL (in a stack of its own)."""
from __future__ import annotations

import json
import sqlite3

import pytest

TRACKS = 700  # more than one multi-row statement (at most 500 rows each)
GENRES = 1200


def scenario() -> dict:
    """Every bulk statement on the current database; what each returned and what the tables then hold."""
    from django.db import IntegrityError, transaction

    from library.models import Album, Artist, Genre, Library, Track
    from orchestrator.scan import bulk
    from orchestrator.scan.writer import ALBUM_AGGREGATES, TRACK_INSERT_FIELDS

    out: dict = {}
    library = Library.objects.create(name="Bulk", root="/srv/bulk")
    now = bulk.db_now()

    names = [f"genre {i:04d}" for i in range(GENRES)]
    returned = bulk.insert_rows(Genre, ["name"], [(n,) for n in names], returning=["name"])
    out["genres"] = {"returned": sorted(n for (n,) in returned) == names, "stored": Genre.objects.count()}

    artist_fields = ["name", "sort_name", "search_key", "musicbrainz_id", "created"]
    bulk.insert_rows(Artist, artist_fields, [("Björk", "bjork", "bjork", "", now)])
    bulk.insert_rows(Artist, artist_fields, [("Björk", "bjork", "bjork", "", now), ("Sigur Rós", "sigur ros",
                                                                                    "sigur ros", "", now)],
                     ignore_conflicts=True)
    try:
        with transaction.atomic():
            bulk.insert_rows(Artist, artist_fields, [("Björk", "bjork", "bjork", "", now)])
        out["duplicate_refused"] = False
    except (IntegrityError, sqlite3.IntegrityError):  # SQLite: the driver's own cursor raises its own error
        out["duplicate_refused"] = True
    out["artists"] = sorted(Artist.objects.values_list("name", flat=True))
    artist = Artist.objects.get(name="Björk")

    bulk.insert_rows(Album, ["title", "sort_title", "album_artist", "year", "compilation", "disc_count", "track_count",
                             "duration_ms", "musicbrainz_id", "search_key", "created"],
                     [("Homogenic", "homogenic", artist.pk, 1997, False, 1, 0, 0, "", "homogenic bjork", now)])
    album = Album.objects.get(title="Homogenic")

    rows = []
    for i in range(TRACKS):
        path = f"Café/東京 {i:03d}.flac"
        rows.append([
            library.pk, path, 1000 + i, 1_700_000_000_123_456_789 + i, f"{1000 + i}:fp", "flac", "flac", 180_000,
            None, 44100, 2, f"Jóga {i}", f"joga {i}", "Björk", album.pk, i + 1, TRACKS, 1, 1, 1997, "", "", "",
            -6.5, 0.98, None, None, "", None, f"joga {i} bjork homogenic", now, now,
        ])
    returned = dict(bulk.insert_rows(Track, TRACK_INSERT_FIELDS, rows, returning=["path", "id"]))
    stored = dict(Track.objects.values_list("path", "id"))
    out["tracks"] = {"returned": returned == stored, "stored": len(stored)}

    bulk.update_rows(Track, ["title", "replaygain_track_gain"], [[f"New {i}", -7.25, pk] for i, pk in
                                                                 enumerate(sorted(stored.values()))])
    bulk.update_rows(Album, ALBUM_AGGREGATES, [[TRACKS, TRACKS * 180_000, 1, 1997, None, album.pk]])
    first = Track.objects.order_by("id").first()
    out["updated"] = [first.title, first.replaygain_track_gain, first.replaygain_album_gain,
                      list(Album.objects.values_list("track_count", "duration_ms").get(pk=album.pk))]

    catalogue = bulk.load_catalogue(library.pk)
    out["catalogue"] = catalogue == {path: (1000 + i, 1_700_000_000_123_456_789 + i, stored[path], album.pk)
                                     for i, path in enumerate(f"Café/東京 {i:03d}.flac" for i in range(TRACKS))}
    out["search"] = Track.objects.filter(search_key__contains="joga 699").count()
    return out


EXPECTED = {
    "genres": {"returned": True, "stored": GENRES},
    "duplicate_refused": True,
    "artists": ["Björk", "Sigur Rós"],
    "tracks": {"returned": True, "stored": TRACKS},
    "updated": ["New 0", -7.25, None, [TRACKS, TRACKS * 180_000]],
    "catalogue": True,
    "search": 1,
}


@pytest.mark.django_db
def test_bulk_statements_on_sqlite():
    assert scenario() == EXPECTED


def test_bulk_statements_on_postgresql(tmp_path):
    from tests.services import POSTGRES_URL, REDIS_URL  # here: the stack's shell imports this module too

    if not (POSTGRES_URL and REDIS_URL):
        pytest.skip("DATABASE_URL (PostgreSQL) and REDIS_URL are not both set: the PostgreSQL bulk test needs them")
    from devtools.deploy import Stack

    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path).create()
    try:
        code = "import json; from tests.orchestrator.test_bulk import scenario; print('RESULT=' + json.dumps(scenario()))"
        output = stack.manage("shell", "-c", code)
        result = json.loads(next(line[7:] for line in output.splitlines() if line.startswith("RESULT=")))
    finally:
        stack.destroy()
    assert result == json.loads(json.dumps(EXPECTED))
