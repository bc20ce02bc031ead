"""Shares: made, listed, changed and deleted through Subsonic by their owner (staff see all);
the public page /share/<token> plays exactly the shared tracks without an account."""
from __future__ import annotations

import datetime
import time

import pytest
from django.test import Client

from .conftest import HOST, Subsonic
from .schema import validate_xml as validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(subsonic_user) -> Subsonic:
    user, password = subsonic_user("bob")
    client = Subsonic("bob", password)
    client.user = user
    return client


def tr(catalogue, index: int) -> str:
    return f"tr-{catalogue['tracks'][index]}"


def _token(share: dict) -> str:
    assert share["url"].startswith("http://127.0.0.1/share/")
    return share["url"].rsplit("/", 1)[1]


def test_share_lifecycle_owner_and_staff(catalogue, alice, bob, admin):
    from library.models import Album

    album = Album.objects.get(pk=catalogue["albums"][0])
    album_tracks = list(album.tracks.order_by("disc_number", "track_number", "id").values_list("id", flat=True))
    expires = int(time.time() * 1000) + 3_600_000
    made = alice.ok("createShare", id=[tr(catalogue, 5), f"al-{album.pk}"], description="For Bob", expires=expires)
    share = made["shares"]["share"][0]
    assert share["username"] == "alice" and share["description"] == "For Bob" and share["visitCount"] == 0
    assert share["expires"].startswith(datetime.datetime.fromtimestamp(expires / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M"))
    expected = [tr(catalogue, 5)] + [f"tr-{pk}" for pk in album_tracks if f"tr-{pk}" != tr(catalogue, 5)]
    assert [e["id"] for e in share["entry"]] == expected
    assert len(_token(share)) >= 32
    validate(alice.raw("getShares").content)

    # Listed for its owner and staff; another user neither sees nor changes it.
    assert [s["id"] for s in alice.ok("getShares")["shares"]["share"]] == [share["id"]]
    assert [s["id"] for s in admin.ok("getShares")["shares"]["share"]] == [share["id"]]
    assert bob.ok("getShares")["shares"] == {"share": []}
    assert bob.json("updateShare", id=share["id"], description="mine")["error"]["code"] == 70
    assert bob.json("deleteShare", id=share["id"])["error"]["code"] == 70

    alice.ok("updateShare", id=share["id"], description="Renamed", expires=0)
    changed = alice.ok("getShares")["shares"]["share"][0]
    assert changed["description"] == "Renamed" and "expires" not in changed
    admin.ok("updateShare", id=share["id"], description="By staff")
    assert alice.ok("getShares")["shares"]["share"][0]["description"] == "By staff"
    alice.ok("deleteShare", id=share["id"])
    assert alice.ok("getShares")["shares"] == {"share": []}


def test_create_share_errors_change_nothing(catalogue, alice, bob):
    from library.models import Share

    assert alice.json("createShare")["error"]["code"] == 10
    assert alice.json("createShare", id=[tr(catalogue, 0), "tr-999999"])["error"]["code"] == 70
    assert alice.json("createShare", id=[f"ar-{catalogue['artists'][0]}"])["error"]["code"] == 10
    assert alice.json("createShare", id=[tr(catalogue, 0)], expires="soon")["error"]["code"] == 10
    # Bob's private playlist cannot be shared by alice.
    playlist = bob.ok("createPlaylist", name="Private", songId=[tr(catalogue, 1)])["playlist"]["id"]
    assert alice.json("createShare", id=[playlist])["error"]["code"] == 70
    assert not Share.objects.exists()
    assert bob.ok("createShare", id=[playlist])["shares"]["share"][0]["entry"][0]["id"] == tr(catalogue, 1)


def test_the_public_page_plays_only_the_shared_tracks(catalogue, alice):
    share = alice.ok("createShare", id=[tr(catalogue, 2), tr(catalogue, 3)])["shares"]["share"][0]
    token = _token(share)
    visitor = Client(**HOST)  # no account
    page = visitor.get(f"/share/{token}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-track="{catalogue["tracks"][2]}"' in html and f'data-track="{catalogue["tracks"][3]}"' in html
    assert html.count('class="share-track"') == 2
    assert "script-src 'self'" in page["Content-Security-Policy"]

    audio = visitor.get(f"/share/{token}/stream/{catalogue['tracks'][2]}", HTTP_RANGE="bytes=0-9")
    assert audio.status_code == 206 and len(b"".join(audio.streaming_content)) == 10
    # Another track, a malformed id, another token: nothing.
    assert visitor.get(f"/share/{token}/stream/{catalogue['tracks'][4]}").status_code == 404
    assert visitor.get(f"/share/{token}/stream/abc").status_code == 404
    assert visitor.get(f"/share/{token}/cover/{catalogue['tracks'][4]}").status_code == 404
    assert visitor.get("/share/not-a-token").status_code == 404
    assert visitor.get(f"/share/{token}x/stream/{catalogue['tracks'][2]}").status_code == 404
    assert visitor.post(f"/share/{token}").status_code == 405

    # A shared track's cover, resized; the same image through another track of the album is not served.
    from django.db.models import Q

    from library.models import Track

    covered = Track.objects.filter(Q(cover__isnull=False) | Q(album__cover__isnull=False)).order_by("id").first()
    with_cover = alice.ok("createShare", id=[f"tr-{covered.pk}"])["shares"]["share"][0]
    image = visitor.get(f"/share/{_token(with_cover)}/cover/{covered.pk}", {"size": "64"})
    assert image.status_code == 200 and image["Content-Type"].startswith("image/")
    sibling = Track.objects.filter(album_id=covered.album_id).exclude(pk=covered.pk).first()
    if sibling is not None:
        assert visitor.get(f"/share/{_token(with_cover)}/cover/{sibling.pk}").status_code == 404

    counted = alice.ok("getShares")["shares"]["share"][-1]
    assert counted["visitCount"] == 1 and counted["lastVisited"]


def test_an_expired_share_is_gone(catalogue, alice):
    from library.models import Share

    share = alice.ok("createShare", id=[tr(catalogue, 2)])["shares"]["share"][0]
    token = _token(share)
    Share.objects.filter(pk=share["id"]).update(expires=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    visitor = Client(**HOST)
    assert visitor.get(f"/share/{token}").status_code == 410
    assert visitor.get(f"/share/{token}/stream/{catalogue['tracks'][2]}").status_code == 410
    assert Share.objects.get(pk=share["id"]).visit_count == 0


def test_share_pages_are_rate_limited(catalogue, alice, settings):
    from django.core.cache import cache

    cache.clear()
    settings.SHARE_RATE_LIMIT, settings.SHARE_RATE_WINDOW = 3, 60
    token = _token(alice.ok("createShare", id=[tr(catalogue, 2)])["shares"]["share"][0])
    visitor = Client(**HOST)
    assert [visitor.get(f"/share/{token}").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = visitor.get(f"/share/{token}/stream/{catalogue['tracks'][2]}")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    cache.clear()


def test_the_new_answers_match_the_official_schemas(catalogue, alice, admin):
    """Every method this server added, in JSON (OpenSubsonic's OpenAPI schema) and XML (the XSD)."""
    import json

    from .schema import validate_json

    song, artist, album = tr(catalogue, 0), f"ar-{catalogue['artists'][0]}", f"al-{catalogue['albums'][0]}"
    alice.ok("scrobble", id=song)
    admin.ok("createInternetRadioStation", name="X", streamUrl="https://x.example/", homepageUrl="https://x.example/h")
    calls = [
        (alice, "getPlayQueue", {}),  # empty
        (alice, "createShare", {"id": [song, album], "description": "d", "expires": 4102444800000}),
        (alice, "getShares", {}),
        (alice, "getArtistInfo", {"id": artist}), (alice, "getArtistInfo2", {"id": artist}),
        (alice, "getAlbumInfo", {"id": album}), (alice, "getAlbumInfo2", {"id": album}),
        (alice, "getTopSongs", {"artist": alice.ok("getSong", id=song)["song"]["artist"]}),
        (alice, "getSimilarSongs", {"id": artist}), (alice, "getSimilarSongs2", {"id": song}),
        (alice, "getInternetRadioStations", {}), (admin, "getUsers", {}), (alice, "tokenInfo", {}),
        (alice, "savePlayQueue", {"id": [song]}), (alice, "getPlayQueue", {}),
    ]
    for client, method, params in calls:
        body = json.loads(client.raw(method, f="json", **params).content)
        assert body["subsonic-response"]["status"] == "ok", (method, body)
        validate_json(method, body)
        if method not in ("createShare", "savePlayQueue"):  # not twice
            validate(client.raw(method, **params).content)
