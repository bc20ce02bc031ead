"""``GET /api/v1/tracks/``: a page of tracks, filtered by album, artist, genre, years, library
and ``updated_since`` (incremental sync: the scanner stamps what it writes), ordered."""
from __future__ import annotations

import datetime
import os
import time

import pytest

from .conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [item["title"] for item in response.json()["items"]]


def test_every_track_in_catalogue_order_paged(as_alice, catalogue):
    everything = as_alice.get("/api/v1/tracks/").json()
    assert everything["total"] == 6 and everything["offset"] == 0
    # By album sort title (articles moved, accents folded), then disc and number.
    assert [t["title"] for t in everything["items"]] == ["Svefn-g-englar", "Ready Lets Go", "Music Is Math", "Jóga",
                                                          "Hunter", "Roygbiv"]
    page = as_alice.get("/api/v1/tracks/", {"offset": 2, "limit": 2}).json()
    assert page["total"] == 6 and [t["title"] for t in page["items"]] == ["Music Is Math", "Jóga"]
    assert set(everything["items"][0]) >= {"id", "title", "artists", "album", "album_artist", "genres", "library"}


def test_filters(as_alice, catalogue):
    albums, artists = catalogue.albums, catalogue.artists
    assert titles(as_alice.get("/api/v1/tracks/", {"album": albums["geogaddi"].pk})) == ["Ready Lets Go", "Music Is Math"]
    # An artist's tracks: on their albums, and theirs on others' (the compilation).
    assert set(titles(as_alice.get("/api/v1/tracks/", {"artist": artists["bjork"].pk}))) == {"Jóga", "Hunter"}
    assert set(titles(as_alice.get("/api/v1/tracks/", {"genre": "pop"}))) == {"Jóga"}
    genre_id = as_alice.get("/api/v1/genres/").json()
    pop = next(g["id"] for g in genre_id if g["name"] == "Pop")
    assert set(titles(as_alice.get("/api/v1/tracks/", {"genre": pop}))) == {"Jóga"}
    assert set(titles(as_alice.get("/api/v1/tracks/", {"year_from": 1998, "year_to": 1999}))) == {"Roygbiv", "Svefn-g-englar"}
    assert set(titles(as_alice.get("/api/v1/tracks/", {"year_from": 2002}))) == {"Ready Lets Go", "Music Is Math"}
    assert set(titles(as_alice.get("/api/v1/tracks/", {"library": catalogue.other_library.pk}))) == {"Svefn-g-englar", "Hunter"}
    assert titles(as_alice.get("/api/v1/tracks/", {"order": "title"}))[:2] == ["Hunter", "Jóga"]


def test_updated_since_and_order_updated(as_alice, catalogue):
    from library.models import Track

    cut = datetime.datetime.now(datetime.timezone.utc)
    assert titles(as_alice.get("/api/v1/tracks/", {"updated_since": cut.isoformat()})) == []
    later = catalogue.tracks["roygbiv"]
    Track.objects.filter(pk=later.pk).update(updated=cut + datetime.timedelta(seconds=5))
    assert titles(as_alice.get("/api/v1/tracks/", {"updated_since": cut.isoformat()})) == ["Roygbiv"]
    assert titles(as_alice.get("/api/v1/tracks/", {"order": "updated"}))[-1] == "Roygbiv"
    z = (cut + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # the Z form, as clients send it
    assert titles(as_alice.get("/api/v1/tracks/", {"updated_since": z})) == ["Roygbiv"]


@pytest.mark.parametrize("query, field", [
    ({"order": "random"}, "order"), ({"limit": 0}, "limit"), ({"album": 0}, "album"), ({"artist": "x"}, "artist"),
    ({"year_from": 2000, "year_to": 1990}, "year_from"), ({"updated_since": "yesterday"}, "updated_since"),
    ({"library": 2 ** 60}, "library"), ({"genre": "9" * 30}, "genre"),
])
def test_bad_parameters_are_400_naming_the_field(as_alice, catalogue, query, field):
    error = assert_error(as_alice.get("/api/v1/tracks/", query), 400, "invalid_payload")
    assert field in str(error), error


def test_anonymous_is_401(anon):
    assert_error(anon.get("/api/v1/tracks/"), 401, "unauthenticated")


def test_a_rescan_stamps_the_tracks_it_rewrites(as_alice, tmp_path):
    """The scanner's bulk writer sets ``updated`` (bulk statements fire no auto_now)."""
    from library.sample import make_sample_library
    from orchestrator import services

    make_sample_library(tmp_path, count=6, seed=2, formats=["flac", "mp3"])
    library = services.library_add("Music", str(tmp_path), interval=0)
    assert services.scan_now(library, trigger="command", workers=1).status == "completed"
    first = as_alice.get("/api/v1/tracks/", {"limit": 500}).json()["items"]
    assert len(first) == 6
    time.sleep(0.01)
    cut = datetime.datetime.now(datetime.timezone.utc)
    assert as_alice.get("/api/v1/tracks/", {"updated_since": cut.isoformat()}).json()["total"] == 0
    changed = next(p for p in sorted(tmp_path.rglob("*")) if p.suffix in (".flac", ".mp3"))
    os.utime(changed, ns=(time.time_ns(), time.time_ns()))
    assert services.scan_now(library, trigger="command", workers=1).status == "completed"
    since = as_alice.get("/api/v1/tracks/", {"updated_since": cut.isoformat()}).json()
    assert since["total"] == 1 and changed.name.endswith(f"{since['items'][0]['title']}{changed.suffix}")
