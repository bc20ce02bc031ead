"""The Subsonic sync benchmark on a tiny catalogue: every page read, every item counted."""
from __future__ import annotations

import pytest

from devtools.bench import api, subsonic

pytestmark = pytest.mark.django_db


def test_the_sync_reads_every_song_album_and_artist_in_both_formats(subsonic_user):
    info = api.build(1200, seed=4)
    user, password = subsonic_user("bench")
    subsonic._mark(user, info, seed=4)
    rows = subsonic.sync("bench", password)
    expected = {"songs": info["track_count"], "albums": info["album_count"], "artists": info["artist_count"],
                "albumList2": info["album_count"]}
    assert {(kind, fmt) for kind, fmt, *_ in rows} == {(k, f) for k in expected for f in ("json", "xml")}
    for kind, fmt, pages, items, page_times, bare_times in rows:
        assert items == expected[kind], (kind, fmt)
        assert pages == items // subsonic.PAGE + 1 and len(page_times) == len(bare_times) == pages
