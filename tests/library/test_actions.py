"""Catalogue lookups over the WebSocket: results, not_found, invalid_payload, legacy names, search."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from common.registry import Permission, registry

from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = [
    "library.artist.list", "library.artist.get", "library.album.list", "library.album.get",
    "library.track.get", "library.track.list", "library.track.lyrics", "library.genre.list", "library.search.query",
]


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


def error(reply) -> str:
    assert not reply["ok"], reply
    return reply["error"]["code"]


@database_sync_to_async
def build_catalogue() -> dict:
    main, other = f.library("Main"), f.library("Other")
    bjork, sigur = f.artist("Björk"), f.artist("Sigur Rós")
    debut = f.album("Debut", bjork, year=1993, genres=["Pop"])
    post = f.album("Post", bjork, year=1995, genres=["Pop", "Electronic"])
    takk = f.album("Takk...", sigur, year=2005, genres=["Post-Rock"])
    f.track("Crying", debut, number=2, lib=main)
    f.track("Human Behaviour", debut, number=1, lib=main)
    army = f.track("Army of Me", post, number=1, lib=main)
    f.track("Hoppípolla", takk, number=2, lib=other)
    return {"bjork": bjork.pk, "sigur": sigur.pk, "debut": debut.pk, "post": post.pk, "takk": takk.pk,
            "army": army.pk, "main": main.pk, "other": other.pk}


@pytest.fixture
async def alice(make_user):
    return await database_sync_to_async(make_user)("alice")


@pytest.fixture
async def client(alice, ws_client):
    return await ws_client(alice)


@pytest.fixture
async def cat():
    return await build_catalogue()


def test_every_lookup_is_declared_for_authenticated_users():
    for name in ACTIONS:
        spec = registry.actions[name]
        assert spec.permission is Permission.AUTHENTICATED and spec.handler is not None
    assert not any(name.startswith("library.scan.") for name in ACTIONS)


async def test_album_get_with_tracks_in_order(client, cat):
    album = ok(await client.request("library.album.get", {"album": cat["debut"]}))
    assert album["title"] == "Debut" and album["artist"]["name"] == "Björk"
    assert [t["title"] for t in album["tracks"]] == ["Human Behaviour", "Crying"]


async def test_artist_track_and_genre_lookups(client, cat):
    artist = ok(await client.request("library.artist.get", {"artist": cat["bjork"]}))
    assert [a["title"] for a in artist["albums"]] == ["Debut", "Post"]
    track = ok(await client.request("library.track.get", {"track": cat["army"]}))
    assert track["title"] == "Army of Me" and track["album"]["title"] == "Post"
    genres = ok(await client.request("library.genre.list"))
    assert [(g["name"], g["album_count"]) for g in genres] == [("Electronic", 1), ("Pop", 2), ("Post-Rock", 1)]
    artists = ok(await client.request("library.artist.list", {"limit": 1, "offset": 1}))
    assert [a["name"] for a in artists["items"]] == ["Sigur Rós"] and artists["total"] == 2


async def test_album_list_filters_ordering_and_paging(client, cat):
    async def titles(payload):
        return [a["title"] for a in ok(await client.request("library.album.list", payload))["items"]]

    assert await titles({}) == ["Debut", "Post", "Takk..."]
    assert await titles({"order": "year"}) == ["Debut", "Post", "Takk..."]
    assert await titles({"order": "recent"}) == ["Takk...", "Post", "Debut"]
    assert await titles({"artist": cat["sigur"]}) == ["Takk..."]
    assert await titles({"genre": "pop"}) == ["Debut", "Post"]
    assert await titles({"year": 1995}) == ["Post"]
    assert await titles({"library": cat["other"]}) == ["Takk..."]
    page = ok(await client.request("library.album.list", {"offset": 1, "limit": 1}))
    assert page == {**page, "total": 3, "offset": 1, "limit": 1} and [a["title"] for a in page["items"]] == ["Post"]


@pytest.mark.parametrize("query", ["bjö", "BJORK", "björk", "Bjo\u0308rk"])
async def test_search_is_accent_and_case_insensitive(client, cat, query):
    result = ok(await client.request("library.search.query", {"query": query}))
    assert [a["name"] for a in result["artists"]["items"]] == ["Björk"]
    assert sorted(a["title"] for a in result["albums"]["items"]) == ["Debut", "Post"]
    assert result["tracks"]["total"] == 3


async def test_search_pages_and_odd_input(client, cat):
    result = ok(await client.request("library.search.query", {"query": "bjork", "limit": 2, "offset": 2}))
    assert [len(result["tracks"]["items"]), result["tracks"]["total"], result["tracks"]["offset"]] == [1, 3, 2]
    for query in ['"', "NEAR(", "-", "AC/DC", "*"]:
        ok(await client.request("library.search.query", {"query": query}))


async def test_missing_ids_are_not_found(client, cat):
    for action, payload in [
        ("library.album.get", {"album": 999_999}),
        ("library.track.get", {"track": 999_999}),
        ("library.artist.get", {"artist": 999_999}),
    ]:
        assert error(await client.request(action, payload)) == "not_found"


@pytest.mark.parametrize(
    "action,payload",
    [
        ("library.album.get", {}),
        ("library.album.get", {"album": "1"}),
        ("library.album.get", {"album": 0}),
        ("library.album.get", {"album": True}),
        ("library.album.get", {"album": 1, "extra": 1}),
        ("library.album.list", {"limit": 501}),
        ("library.album.list", {"limit": 0}),
        ("library.album.list", {"offset": -1}),
        ("library.album.list", {"order": "size"}),
        ("library.album.list", {"genre": ""}),
        ("library.artist.list", {"order": "year"}),
        ("library.search.query", {}),
        ("library.search.query", {"query": ""}),
        ("library.search.query", {"query": "x" * 201}),
        ("library.search.query", {"query": 5}),
        ("library.genre.list", {"x": 1}),
    ],
)
async def test_invalid_payloads(client, action, payload):
    assert error(await client.request(action, payload)) == "invalid_payload"


async def test_legacy_names(client, cat):
    album = ok(await client.request("album:get", {"album": cat["takk"]}))
    assert album["title"] == "Takk..."
    assert ok(await client.request("track:get", {"track": cat["army"]}))["title"] == "Army of Me"
    assert ok(await client.request("artist:get", {"artist": cat["sigur"]}))["name"] == "Sigur Rós"
    result = ok(await client.request("search:query", {"query": "sigur ros"}))
    assert [a["name"] for a in result["artists"]["items"]] == ["Sigur Rós"]


# -- browsing at scale: personal album orders, the songs table, track info, ratings, lyrics ------------


async def test_album_list_personal_orders_follow_the_asking_user(client, cat, alice, make_user, ws_client):
    ok(await client.request("rating.set", {"kind": "album", "id": cat["takk"], "rating": 4}))
    ok(await client.request("favourite.set", {"kind": "album", "id": cat["post"]}))
    rated = ok(await client.request("library.album.list", {"order": "top_rated"}))
    assert [a["title"] for a in rated["items"]] == ["Takk..."] and rated["total"] == 1
    starred = ok(await client.request("library.album.list", {"order": "starred", "year_from": 1990, "year_to": 2000}))
    assert [a["title"] for a in starred["items"]] == ["Post"]
    bob = await ws_client(await database_sync_to_async(make_user)("bob"))
    assert ok(await bob.request("library.album.list", {"order": "top_rated"}))["total"] == 0
    shuffled = ok(await client.request("library.album.list", {"order": "random", "limit": 2}))
    rest = ok(await client.request("library.album.list", {"order": "random", "offset": 2, "seed": shuffled["seed"]}))
    assert sorted(a["title"] for a in shuffled["items"] + rest["items"]) == ["Debut", "Post", "Takk..."]


async def test_track_list_orders_filters_and_pages(client, cat):
    async def titles(payload):
        return [t["title"] for t in ok(await client.request("library.track.list", payload))["items"]]

    assert await titles({}) == ["Human Behaviour", "Crying", "Army of Me", "Hoppípolla"]
    assert await titles({"order": "title"}) == ["Army of Me", "Crying", "Hoppípolla", "Human Behaviour"]
    assert await titles({"order": "title", "descending": True, "limit": 2}) == ["Human Behaviour", "Hoppípolla"]
    page = ok(await client.request("library.track.list", {"order": "title", "offset": 3, "limit": 2}))
    assert (page["total"], [t["title"] for t in page["items"]]) == (4, ["Human Behaviour"])
    assert error(await client.request("library.track.list", {"order": "size"})) == "invalid_payload"


async def test_a_tracks_path_is_for_staff_only(client, cat, make_user, ws_client):
    assert "path" not in ok(await client.request("library.track.get", {"track": cat["army"]}))
    staff = await ws_client(await database_sync_to_async(make_user)("root", staff=True))
    track = ok(await staff.request("library.track.get", {"track": cat["army"]}))
    assert track["path"].startswith("/srv/music/main") and track["path"].endswith("Army of Me.mp3")


async def test_ratings_are_read_back_for_the_asker_only(client, cat, make_user, ws_client):
    ok(await client.request("rating.set", {"kind": "track", "id": cat["army"], "rating": 5}))
    assert ok(await client.request("rating.get", {"kind": "track", "ids": [cat["army"], 999]})) == [{"id": cat["army"], "rating": 5}]
    bob = await ws_client(await database_sync_to_async(make_user)("bob"))
    assert ok(await bob.request("rating.get", {"kind": "track", "ids": [cat["army"]]})) == []


async def test_lyrics_synced_and_plain(client, cat):
    from library.models import Track

    await database_sync_to_async(Track.objects.filter(pk=cat["army"]).update)(lyrics="[00:01.50]first\n[00:00.20]intro\n")
    lyrics = ok(await client.request("library.track.lyrics", {"track": cat["army"]}))
    assert lyrics == {"track": cat["army"], "synced": True, "lines": [{"start": 200, "value": "intro"}, {"start": 1500, "value": "first"}]}
    await database_sync_to_async(Track.objects.filter(pk=cat["army"]).update)(lyrics="one\ntwo\n")
    assert ok(await client.request("library.track.lyrics", {"track": cat["army"]}))["lines"] == [{"value": "one"}, {"value": "two"}]
