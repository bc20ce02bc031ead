"""Ids and counts at the WebSocket edge, queue additions of tracks that exist, and readers of
stored tracker state that hold an entry no database or browser can use (issue 14, item 7)."""
from __future__ import annotations

import importlib

import pytest
from channels.db import database_sync_to_async
from django.apps import apps as django_apps

from common.messages import Context
from tests.library import factories as f
from tracker import services, store
from tracker.models import Tracker

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_IDS = [0, -1, 2**53, 2**63, 2**70, -(2**70)]


@pytest.fixture
async def alice(make_user):
    return await database_sync_to_async(make_user)("alice")


@database_sync_to_async
def make_tracks(count: int = 3) -> list[int]:
    album = f.album("Bounds")
    return [f.track(f"t{i}", album).pk for i in range(count)]


def ctx(user) -> Context:
    return Context(user_id=user.pk, username=user.username, is_staff=user.is_staff, via="ws")


async def device(ws_client, user, name="phone"):
    client = await ws_client(user)
    reply = await client.request("player.device.register", {"name": name})
    assert reply["ok"], reply
    client.tracker = reply["result"]["tracker"]
    return client


def refused(reply, code: str = "invalid_payload") -> dict:
    assert reply["ok"] is False and reply["error"]["code"] == code, reply
    return reply["error"]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
@pytest.mark.parametrize("action, payload", [
    ("player.queue.append", lambda bad: {"tracks": [bad]}),
    ("player.queue.replace", lambda bad: {"tracks": [1], "index": bad or -1}),
    ("player.playback.seek", lambda bad: {"position_ms": bad or -1}),
    ("library.album.list", lambda bad: {"artist": bad}),
    ("library.album.list", lambda bad: {"offset": bad if bad != 0 else -5}),
    ("library.track.get", lambda bad: {"track": bad}),
    ("playlist.create", lambda bad: {"name": "x", "tracks": [bad]}),
    ("favourite.set", lambda bad: {"kind": "track", "id": bad}),
    ("tracker.subscribe", lambda bad: {"tracker": "00000000-0000-0000-0000-000000000000", "since_version": bad if bad else -1}),
])
async def test_ids_and_counts_out_of_range_are_invalid_payloads(alice, ws_client, action, payload, bad):
    client = await device(ws_client, alice)
    error = refused(await client.request(action, payload(bad)))
    assert "details" in error
    assert (await client.request("tracker.state.get", {"tracker": client.tracker}))["result"]["version"] == 1


@pytest.mark.parametrize("tracker", ["a b", "é", "tracker.x", "0" * 64, "00000000-0000-0000-0000-00000000000g"])
async def test_tracker_ids_that_are_no_uuid_are_invalid_payloads(alice, ws_client, tracker):
    client = await device(ws_client, alice)
    refused(await client.request("tracker.subscribe", {"tracker": tracker}))
    refused(await client.request("tracker.state.get", {"tracker": tracker}))
    refused(await client.request("player.volume.set", {"tracker": tracker, "volume": 5}))
    refused(await client.request("player.presence.list", {"tracker": tracker}))
    refused(await client.request("player.volume.set", {"volume": 5, "expected_version": 2**70}))


async def test_a_tracker_id_in_capitals_names_the_same_tracker(alice, ws_client):
    client = await device(ws_client, alice)
    follower = await device(ws_client, alice, "laptop")
    assert (await follower.request("tracker.subscribe", {"tracker": client.tracker.upper()}))["ok"]
    assert (await client.request("player.volume.set", {"volume": 7}))["ok"]
    event = await follower.event("tracker.action.applied")
    assert event["payload"]["tracker"] == client.tracker


@pytest.mark.parametrize("action", ["player.queue.append", "player.queue.insert_next", "player.queue.replace"])
async def test_queue_additions_name_tracks_that_exist(alice, ws_client, action):
    tracks = await make_tracks(2)
    client = await device(ws_client, alice)
    error = refused(await client.request(action, {"tracks": [tracks[0], 999_999, tracks[1]]}), "not_found")
    assert "999999" in error["message"]
    assert (await client.request("tracker.state.get", {"tracker": client.tracker}))["result"]["version"] == 1
    assert (await client.request(action, {"tracks": tracks}))["ok"]


async def test_a_party_queue_takes_only_tracks_that_exist(alice, ws_client):
    tracks = await make_tracks(1)
    client = await device(ws_client, alice)
    party = (await client.request("party.session.create", {"name": "Friday"}))["result"]["tracker"]
    refused(await client.request("player.queue.append", {"tracker": party, "tracks": [2**52]}), "not_found")
    assert (await client.request("player.queue.append", {"tracker": party, "tracks": tracks}))["ok"]


# -- stored state with bad entries ----------------------------------------------------------------


def rest_get(user, url: str):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client.get(url)


@database_sync_to_async
def poison(tracker_id: str, tracks: list[int]) -> None:
    """Store the state an earlier version accepted: a queue holding ids no row can have."""
    tracker = Tracker.objects.get(pk=tracker_id)
    queue = [tracks[0], 2**70, "x", tracks[1], -3, 2**63, tracks[2]]
    tracker.state = {**tracker.state, "queue": queue, "index": 3, "order": list(range(len(queue)))[::-1]}
    tracker.save()


async def test_readers_skip_bad_stored_entries(alice, ws_client):
    tracks = await make_tracks(3)
    client = await device(ws_client, alice)
    await poison(client.tracker, tracks)
    listed = (await client.request("tracker.list"))["result"]
    assert listed[0]["state"]["queue"] == tracks and listed[0]["state"]["index"] == 1
    assert listed[0]["state"]["order"] == [2, 1, 0]
    state = (await client.request("tracker.state.get", {"tracker": client.tracker}))["result"]["state"]
    assert state["queue"] == tracks
    subscribed = (await client.request("tracker.subscribe", {"tracker": client.tracker}))["result"]
    assert subscribed["state"]["queue"] == tracks
    rest = await database_sync_to_async(rest_get)(alice, "/api/v1/trackers/")
    assert rest.status_code == 200, rest.content[:300]
    assert rest.json()[0]["state"]["queue"] == tracks
    # and the player plays on from the cleaned state
    assert (await client.request("player.playback.next"))["ok"]


def test_the_migration_removes_bad_and_missing_tracks_and_fixes_the_index(make_user):
    album = f.album("Kept")
    kept = [f.track(f"k{i}", album).pk for i in range(3)]
    alice = make_user("alice")
    player = services.register_device(ctx(alice), "phone")["tracker"]
    party = services.create_party(ctx(alice), {"name": "Friday"})["tracker"]
    scan = Tracker.objects.create(kind="library.scan", key="1", state={"queue": [2**70]})
    for tracker_id in (player, party):
        tracker = Tracker.objects.get(pk=tracker_id)
        queue = [kept[0], 2**70, 404_404, kept[1], True, kept[2]]
        tracker.state = {**tracker.state, "queue": queue, "index": 4, "order": [5, 4, 3, 2, 1, 0], "playing": True}
        tracker.base_state = dict(tracker.state)
        tracker.save()
    migration = importlib.import_module("tracker.migrations.0002_clean_stored_queues")
    migration.clean_stored_queues(django_apps, None)
    for tracker_id in (player, party):
        tracker = Tracker.objects.get(pk=tracker_id)
        # entry 4 (True) was current: the next valid entry in queue order (kept[2]) takes its place
        assert tracker.state["queue"] == kept and tracker.state["index"] == 2, tracker.state
        assert tracker.state["order"] == [2, 1, 0]
        assert tracker.base_state["queue"] == kept
    assert Tracker.objects.get(pk=scan.pk).state == {"queue": [2**70]}  # other kinds untouched
    # all entries bad: an empty, stopped queue
    tracker = Tracker.objects.get(pk=player)
    tracker.state = {**tracker.state, "queue": [2**70], "index": 0, "order": [0], "playing": True}
    tracker.save()
    migration.clean_stored_queues(django_apps, None)
    state = Tracker.objects.get(pk=player).state
    assert (state["queue"], state["index"], state["order"], state["playing"]) == ([], None, [], False)
    assert store.load(player).state == state
