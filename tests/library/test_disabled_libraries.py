"""A disabled library's tracks (and the albums that have no other tracks) are hidden from
every interface: not listed, found, shown, streamed or given covers, over REST, Subsonic and
the WebSocket. Its rows stay in the catalogue: enabling it again shows them again."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from library.models import Album, Track
from library.sample import make_sample_library

pytestmark = pytest.mark.django_db(transaction=True)


def build(root, data_dir) -> dict:
    from orchestrator import services

    make_sample_library(root / "shown", count=6, seed=11)
    make_sample_library(root / "hidden", count=6, seed=12)
    shown = services.library_add("Shown", str(root / "shown"), interval=0)
    hidden = services.library_add("Hidden", str(root / "hidden"), interval=0)
    for library in (shown, hidden):
        assert services.scan_now(library, trigger="command", workers=1).status == "completed"
    services.library_update(hidden, enabled=False)
    visible_albums = set(Track.objects.filter(library=shown).values_list("album_id", flat=True))
    cat = {
        "hidden": hidden.pk,
        "hidden_tracks": list(Track.objects.filter(library=hidden).values_list("id", "title")),
        "shown_tracks": list(Track.objects.filter(library=shown).values_list("id", "title")),
        "hidden_albums": set(Album.objects.exclude(pk__in=visible_albums).values_list("id", flat=True)),
        "shown_albums": visible_albums,
    }
    assert cat["hidden_tracks"] and cat["hidden_albums"] and cat["shown_tracks"]
    return cat


@pytest.fixture
def cat(tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return build(tmp_path, settings.DATA_DIR)


def word(title: str) -> str:
    return title.split()[0]


def test_rest_hides_a_disabled_librarys_tracks_and_albums(cat, make_user, token_for):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(make_user('bob'))}")
    for track, title in cat["hidden_tracks"]:
        for path in (f"/api/v1/tracks/{track}/", f"/api/v1/tracks/{track}/stream", f"/api/v1/tracks/{track}/cover"):
            assert api.get(path).status_code == 404, path
        found = api.get("/api/v1/search/", {"q": word(title), "limit": 500}).json()
        assert track not in {item["id"] for item in found["tracks"]["items"]}
        assert not cat["hidden_albums"] & {item["id"] for item in found["albums"]["items"]}
    for album in cat["hidden_albums"]:
        assert api.get(f"/api/v1/albums/{album}/").status_code == 404
        assert api.get(f"/api/v1/albums/{album}/cover").status_code == 404
    albums = api.get("/api/v1/albums/", {"limit": 500}).json()
    assert {item["id"] for item in albums["items"]} == cat["shown_albums"] and albums["total"] == len(cat["shown_albums"])
    track, title = cat["shown_tracks"][0]
    assert api.get(f"/api/v1/tracks/{track}/stream").status_code == 200
    assert track in {item["id"] for item in api.get("/api/v1/search/", {"q": title}).json()["tracks"]["items"]}


def test_subsonic_hides_a_disabled_librarys_tracks_and_albums(cat, make_user):
    from bridge.subsonic import credentials
    from tests.subsonic.conftest import Subsonic

    user = make_user("bob")
    client = Subsonic("bob", credentials.password_reset(user), auth="password")
    for track, title in cat["hidden_tracks"]:
        for method in ("getSong", "stream", "download", "getCoverArt"):
            reply = client.json(method, id=f"tr-{track}") if method == "getSong" else None
            if reply is None:
                response = client.raw(method, id=f"tr-{track}", f="json")
                assert response["Content-Type"].startswith("application/json"), method
                reply = response.json()["subsonic-response"]
            assert reply["status"] == "failed" and reply["error"]["code"] == 70, (method, reply)
        songs = client.json("search3", query=word(title), songCount=500)["searchResult3"].get("song", [])
        assert f"tr-{track}" not in {song["id"] for song in songs}
    for kind in ("alphabeticalByName", "random", "newest"):
        listed = client.json("getAlbumList2", type=kind, size=500)["albumList2"].get("album", [])
        assert {album["id"] for album in listed} == {f"al-{pk}" for pk in cat["shown_albums"]}, kind
    for album in cat["hidden_albums"]:
        assert client.json("getAlbum", id=f"al-{album}")["error"]["code"] == 70
    every = client.json("search3", query="", songCount=500)["searchResult3"].get("song", [])
    assert {song["id"] for song in every} == {f"tr-{pk}" for pk, _ in cat["shown_tracks"]}
    status = client.json("getScanStatus")["scanStatus"]
    assert status["count"] == len(cat["shown_tracks"])


async def test_the_websocket_hides_a_disabled_librarys_tracks_and_albums(tmp_path, settings, make_user, ws_client):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    cat = await database_sync_to_async(build)(tmp_path, settings.DATA_DIR)
    client = await ws_client(await database_sync_to_async(make_user)("bob"))
    for track, title in cat["hidden_tracks"]:
        reply = await client.request("library.track.get", {"track": track})
        assert not reply["ok"] and reply["error"]["code"] == "not_found"
        found = (await client.request("library.search.query", {"query": word(title), "limit": 500}))["result"]
        assert track not in {item["id"] for item in found["tracks"]["items"]}
    for album in cat["hidden_albums"]:
        reply = await client.request("library.album.get", {"album": album})
        assert not reply["ok"] and reply["error"]["code"] == "not_found"
    albums = (await client.request("library.album.list", {"limit": 500}))["result"]
    assert {item["id"] for item in albums["items"]} == cat["shown_albums"]


@pytest.mark.parametrize("ranked", [2000, 0])
def test_search_leaves_a_disabled_librarys_rows_out_of_counts_and_pages(ranked, monkeypatch):
    from library import search, selectors
    from tests.library import factories as f

    monkeypatch.setattr(search, "RANKED_MATCHES", ranked)  # 0: the catalogue-order query
    bjork = f.artist("Björk")
    f.track("Jóga", f.album("Homogenic", bjork), number=1, lib=f.library("Shown"))
    f.track("Jógaland", f.album("Homogenic Demos", bjork), number=1, lib=f.library("Hidden", enabled=False))
    tracks, albums = selectors.search("jóga")["tracks"], selectors.search("homo")["albums"]
    assert [t["title"] for t in tracks["items"]] == ["Jóga"] and tracks["total"] == 1
    assert [a["title"] for a in albums["items"]] == ["Homogenic"] and albums["total"] == 1


def test_a_cover_only_hidden_albums_use_is_not_served_by_its_id(cat, make_user, token_for):
    from bridge.subsonic import credentials
    from library.models import CoverArt
    from tests.subsonic.conftest import Subsonic

    shown = set(CoverArt.objects.filter(albums__in=cat["shown_albums"]).values_list("id", flat=True))
    shown |= set(CoverArt.objects.filter(tracks__library__name="Shown").values_list("id", flat=True))
    hidden_only = set(CoverArt.objects.filter(albums__in=cat["hidden_albums"]).values_list("id", flat=True)) - shown
    orphan = CoverArt.objects.create(sha256="0" * 64, mime="image/png", size=1)  # used by nothing: not hidden
    assert hidden_only and shown
    api = APIClient()
    user = make_user("bob")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    client = Subsonic("bob", credentials.password_reset(user), auth="password")
    for cover in hidden_only:
        assert api.get(f"/api/v1/covers/{cover}").status_code == 404
        reply = client.raw("getCoverArt", id=f"co-{cover}", f="json").json()["subsonic-response"]
        assert reply["error"]["code"] == 70
    for cover in shown:
        assert api.get(f"/api/v1/covers/{cover}").status_code == 200
    from bridge.files import cover_by_id

    assert cover_by_id(orphan.pk) == orphan
