"""Playlists, favourites, ratings and plays over the WebSocket: results, permissions, bad payloads."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from common.registry import Permission, registry
from library.models import NowPlaying, Play

from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = [
    "playlist.list", "playlist.get", "playlist.create", "playlist.update", "playlist.add", "playlist.remove",
    "playlist.move", "playlist.delete", "favourite.set", "favourite.list", "rating.set", "play.record",
    "play.list", "play.now_playing",
]


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


def error(reply) -> str:
    assert not reply["ok"], reply
    return reply["error"]["code"]


@database_sync_to_async
def build_catalogue() -> dict:
    f.library("Main")
    post = f.album("Post", "Björk", year=1995)
    tracks = [f.track(title, post, number=n) for n, title in enumerate(["Army of Me", "Hyperballad", "Isobel"], 1)]
    return {"post": post.pk, "bjork": post.album_artist_id, "tracks": [t.pk for t in tracks]}


@pytest.fixture
async def users(make_user):
    return await database_sync_to_async(make_user)("alice"), await database_sync_to_async(make_user)("bob")


@pytest.fixture
async def alice(users, ws_client):
    return await ws_client(users[0])


@pytest.fixture
async def bob(users, ws_client):
    return await ws_client(users[1])


@pytest.fixture
async def cat():
    return await build_catalogue()


def titles(playlist: dict) -> list[str]:
    return [track["title"] for track in playlist["tracks"]]


def test_every_action_is_declared_for_authenticated_users():
    for name in ACTIONS:
        spec = registry.actions[name]
        assert spec.permission is Permission.AUTHENTICATED and spec.handler is not None and spec.doc


async def test_playlist_lifecycle(alice, cat):
    army, hyper, isobel = cat["tracks"]
    created = ok(await alice.request("playlist.create", {"name": "Walk", "tracks": [isobel, army]}))
    pid = created["id"]
    assert created["track_ids"] == [isobel, army] and created["owner"]["username"] == "alice"
    assert ok(await alice.request("playlist.add", {"playlist": pid, "tracks": [hyper], "position": 1}))["track_ids"] == [isobel, hyper, army]
    assert ok(await alice.request("playlist.move", {"playlist": pid, "from_index": 0, "to_index": 2}))["track_ids"] == [hyper, army, isobel]
    assert ok(await alice.request("playlist.remove", {"playlist": pid, "indexes": [1]}))["track_ids"] == [hyper, isobel]
    updated = ok(await alice.request("playlist.update", {"playlist": pid, "name": "Run", "public": True,
                                                         "remove": [0], "add": [army]}))
    assert (updated["name"], updated["public"], updated["track_ids"]) == ("Run", True, [isobel, army])
    got = ok(await alice.request("playlist.get", {"playlist": pid}))
    assert titles(got) == ["Isobel", "Army of Me"] and got["track_count"] == 2
    assert [p["name"] for p in ok(await alice.request("playlist.list"))] == ["Run"]
    assert ok(await alice.request("playlist.delete", {"playlist": pid})) == {"playlist": pid, "deleted": True}
    assert error(await alice.request("playlist.get", {"playlist": pid})) == "not_found"


async def test_other_users_playlists(alice, bob, cat):
    private = ok(await alice.request("playlist.create", {"name": "Secret", "tracks": cat["tracks"][:1]}))
    shared = ok(await alice.request("playlist.create", {"name": "Shared", "public": True}))
    assert error(await bob.request("playlist.get", {"playlist": private["id"]})) == "not_found"
    assert ok(await bob.request("playlist.get", {"playlist": shared["id"]}))["name"] == "Shared"
    assert [p["name"] for p in ok(await bob.request("playlist.list"))] == ["Shared"]
    assert error(await bob.request("playlist.update", {"playlist": shared["id"], "name": "Mine"})) == "forbidden"
    assert error(await bob.request("playlist.delete", {"playlist": shared["id"]})) == "forbidden"
    assert error(await bob.request("playlist.delete", {"playlist": private["id"]})) == "not_found"


@pytest.mark.parametrize("action, payload", [
    ("playlist.create", {}),
    ("playlist.create", {"name": ""}),
    ("playlist.create", {"name": "x", "tracks": ["1"]}),
    ("playlist.create", {"name": "x", "owner": 2}),
    ("playlist.get", {"playlist": 0}),
    ("playlist.add", {"playlist": 1, "tracks": []}),
    ("playlist.remove", {"playlist": 1, "indexes": [-1]}),
    ("playlist.move", {"playlist": 1, "from_index": 0}),
    ("favourite.set", {"kind": "song", "id": 1}),
    ("rating.set", {"kind": "track", "id": 1, "rating": 6}),
    ("rating.set", {"kind": "track", "id": 1, "rating": "5"}),
    ("play.record", {"track": 1, "submission": "yes"}),
    ("play.list", {"limit": 0}),
])
async def test_bad_payloads_are_refused(alice, action, payload):
    assert error(await alice.request(action, payload)) == "invalid_payload"


async def test_playlist_range_errors_come_from_the_service(alice, cat):
    pid = ok(await alice.request("playlist.create", {"name": "Two", "tracks": cat["tracks"][:2]}))["id"]
    assert error(await alice.request("playlist.remove", {"playlist": pid, "indexes": [2]})) == "invalid_payload"
    assert error(await alice.request("playlist.add", {"playlist": pid, "tracks": [999_999]})) == "not_found"


async def test_favourites_and_ratings(alice, bob, cat):
    army = cat["tracks"][0]
    starred = ok(await alice.request("favourite.set", {"kind": "track", "id": army}))
    assert starred["starred"] is True and starred["starred_at"]
    ok(await alice.request("favourite.set", {"kind": "album", "id": cat["post"], "starred": True}))
    ok(await alice.request("favourite.set", {"kind": "artist", "id": cat["bjork"]}))
    listed = ok(await alice.request("favourite.list"))
    assert [t["title"] for t in listed["tracks"]] == ["Army of Me"] and listed["tracks"][0]["starred_at"]
    assert [a["title"] for a in listed["albums"]] == ["Post"] and [a["name"] for a in listed["artists"]] == ["Björk"]
    assert ok(await bob.request("favourite.list")) == {"artists": [], "albums": [], "tracks": []}
    ok(await alice.request("favourite.set", {"kind": "track", "id": army, "starred": False}))
    assert ok(await alice.request("favourite.list"))["tracks"] == []
    assert error(await alice.request("favourite.set", {"kind": "album", "id": 999_999})) == "not_found"

    assert ok(await alice.request("rating.set", {"kind": "track", "id": army, "rating": 4})) == {
        "kind": "track", "id": army, "rating": 4}
    assert ok(await alice.request("rating.set", {"kind": "track", "id": army, "rating": 0}))["rating"] == 0


async def test_plays_and_now_playing(alice, bob, cat):
    army, hyper, _ = cat["tracks"]
    played = ok(await alice.request("play.record", {"track": army}))
    assert played["id"] and played["track"]["title"] == "Army of Me" and played["submission"] is True
    ok(await alice.request("play.record", {"track": hyper}))
    page = ok(await alice.request("play.list", {"limit": 1}))
    assert page["total"] == 2 and [p["track"]["title"] for p in page["items"]] == ["Hyperballad"]
    assert ok(await bob.request("play.list"))["total"] == 0

    now = ok(await alice.request("play.record", {"track": hyper, "submission": False, "device": "Kitchen"}))
    assert now["id"] is None and now["device"] == "Kitchen"
    listed = ok(await bob.request("play.now_playing"))
    assert [(n["user"]["username"], n["device"], n["track"]["title"]) for n in listed] == [("alice", "Kitchen", "Hyperballad")]
    assert await database_sync_to_async(Play.objects.count)() == 2


async def test_now_playing_names_the_registered_device(alice, cat):
    ok(await alice.request("player.device.register", {"name": "Living room"}))
    ok(await alice.request("play.record", {"track": cat["tracks"][0], "submission": False}))
    devices = await database_sync_to_async(lambda: list(NowPlaying.objects.values_list("device", flat=True)))()
    assert devices == ["Living room"]
