"""Plays recorded once per play id, the most played tracks, and the player settings, over
REST and the WebSocket (the same functions of ``library.userdata``)."""
from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from library.models import Play, PlayerSettings
from tests.library import factories as f

from .test_userdata_api import API, _client, error_of, made

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def users(make_user):
    return make_user("alice"), make_user("bob")


@pytest.fixture
def cat():
    f.library("Main")
    post = f.album("Post", "Björk", year=1995)
    tracks = [f.track(title, post, number=n, duration_ms=200_000)
              for n, title in enumerate(["Army of Me", "Hyperballad", "Isobel"], 1)]
    return [t.pk for t in tracks]


def test_a_play_id_is_recorded_once(users, token_for, cat):
    alice, bob = (_client(user, token_for) for user in users)
    play_id = str(uuid.uuid4())
    first = made(alice.post(f"{API}/plays/", {"track": cat[0], "play_id": play_id}, format="json"), 201)
    again = made(alice.post(f"{API}/plays/", {"track": cat[0], "play_id": play_id.upper()}, format="json"), 201)
    assert again["id"] == first["id"]
    assert Play.objects.filter(user=users[0]).count() == 1
    # Another user's play may carry the same id (each user records their own plays).
    made(bob.post(f"{API}/plays/", {"track": cat[0], "play_id": play_id}, format="json"), 201)
    assert Play.objects.count() == 2
    error_of(alice.post(f"{API}/plays/", {"track": cat[0], "play_id": "not-a-uuid"}, format="json"), 400,
             "invalid_payload")
    assert Play.objects.count() == 2


def test_most_played_tracks(users, token_for, cat):
    alice = _client(users[0], token_for)
    army, hyper, isobel = cat
    for track in (hyper, army, hyper, isobel, hyper, army):
        made(alice.post(f"{API}/plays/", {"track": track}, format="json"), 201)
    made(alice.post(f"{API}/plays/", {"track": isobel, "submission": False}, format="json"), 200)  # now playing only
    page = made(alice.get(f"{API}/plays/top/?limit=2"))
    assert page["total"] == 3
    assert [(item["track"]["title"], item["plays"]) for item in page["items"]] == [("Hyperballad", 3), ("Army of Me", 2)]
    assert made(alice.get(f"{API}/plays/top/?offset=2"))["items"][0]["track"]["title"] == "Isobel"
    assert made(_client(users[1], token_for).get(f"{API}/plays/top/"))["total"] == 0
    error_of(alice.get(f"{API}/plays/top/?limit=0"), 400, "invalid_payload")


def test_player_settings(users, token_for):
    alice, bob = (_client(user, token_for) for user in users)
    assert made(alice.get(f"{API}/me/settings")) == {"replaygain": "track", "theme": "system"}
    assert made(alice.patch(f"{API}/me/settings", {"replaygain": "album"}, format="json")) == {"replaygain": "album", "theme": "system"}
    assert made(alice.get(f"{API}/me/settings")) == {"replaygain": "album", "theme": "system"}
    assert made(bob.get(f"{API}/me/settings")) == {"replaygain": "track", "theme": "system"}
    error_of(alice.patch(f"{API}/me/settings", {"replaygain": "loud"}, format="json"), 400, "invalid_payload")
    error_of(alice.patch(f"{API}/me/settings", {"volume": 3}, format="json"), 400, "invalid_payload")
    assert made(alice.get(f"{API}/me/settings")) == {"replaygain": "album", "theme": "system"}
    error_of(_client(None, token_for).get(f"{API}/me/settings"), 401, "unauthenticated")
    assert PlayerSettings.objects.count() == 1


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def test_over_the_websocket(users, ws_client, cat):
    alice = await ws_client(users[0])
    bob = await ws_client(users[1])
    ok(await alice.request("player.device.register", {"name": "Kitchen"}))
    play_id = str(uuid.uuid4())
    first = ok(await alice.request("play.record", {"track": cat[1], "play_id": play_id}))
    again = ok(await alice.request("play.record", {"track": cat[1], "play_id": play_id}))
    assert first["id"] == again["id"] and first["device"] == "Kitchen"
    top = ok(await alice.request("play.top"))
    assert [(item["track"]["id"], item["plays"]) for item in top["items"]] == [(cat[1], 1)]
    reply = await alice.request("play.record", {"track": cat[1], "play_id": "1234"})
    assert reply["error"]["code"] == "invalid_payload"
    assert await database_sync_to_async(Play.objects.count)() == 1

    assert ok(await alice.request("account.settings.get")) == {"replaygain": "track", "theme": "system"}
    assert ok(await alice.request("account.settings.update", {"replaygain": "off"})) == {"replaygain": "off", "theme": "system"}
    assert ok(await bob.request("account.settings.get")) == {"replaygain": "track", "theme": "system"}
    reply = await alice.request("account.settings.update", {"replaygain": "loud"})
    assert reply["error"]["code"] == "invalid_payload"
    assert ok(await alice.request("account.settings.get")) == {"replaygain": "off", "theme": "system"}
