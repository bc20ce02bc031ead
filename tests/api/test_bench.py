"""The API benchmark's catalogue builder and request plan, on a tiny catalogue."""
from __future__ import annotations

import pytest

from devtools.bench import api as bench
from library import selectors
from library.models import Album, Artist, Track, TrackArtist

pytestmark = pytest.mark.django_db


def test_build_makes_a_consistent_searchable_catalogue():
    info = bench.build(300, seed=3)
    assert (info["track_count"], info["album_count"], info["artist_count"]) == (300, 30, 3)
    assert Track.objects.count() == TrackArtist.objects.filter(position=0).count() == 300
    assert all(album.track_count == 10 for album in Album.objects.all())
    album = Album.objects.first()
    assert album.duration_ms == sum(album.tracks.values_list("duration_ms", flat=True))
    word = Artist.objects.first().name.split()[0]
    assert selectors.search(word[:3])["artists"]["total"] >= 1


def test_every_planned_request_answers_200_in_process(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    info = bench.build(200, seed=5)
    results = bench.measure_in_process(info, requests=6, seed=5, part=1, parts=2)
    assert set(results) == set(bench.OPERATIONS)
    assert all(len(r["selector"]) == len(r["client"]) == 3 for r in results.values())
