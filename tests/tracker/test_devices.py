"""Device players keyed by the browser's own id: renames keep the device, owners forget devices."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tracker.models import Tracker, TrackerAction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def tracks():
    from tests.library import factories as f

    await database_sync_to_async(f.tracks_with_ids)(range(1, 11))


@pytest.fixture
async def alice(make_user):
    return await database_sync_to_async(make_user)("alice")


@pytest.fixture
async def bob(make_user):
    return await database_sync_to_async(make_user)("bob")


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def keyed_device(ws_client, user, name, key):
    client = await ws_client(user)
    client.tracker = ok(await client.request("player.device.register", {"name": name, "key": key}))["tracker"]
    return client


async def test_a_renamed_device_keeps_its_player_queue_and_volume(alice, ws_client):
    laptop = await keyed_device(ws_client, alice, "Laptop", "k-laptop-0001")
    ok(await laptop.request("player.queue.replace", {"tracks": [1, 2, 3], "index": 1}))
    ok(await laptop.request("player.volume.set", {"volume": 35}))
    ok(await laptop.request("player.device.rename", {"name": "Study"}))
    # The browser comes back (its stored name may be stale): the same key, the same player.
    again = await keyed_device(ws_client, alice, "Laptop", "k-laptop-0001")
    assert again.tracker == laptop.tracker
    state = ok(await again.request("tracker.state.get", {"tracker": again.tracker}))["state"]
    assert (state["device"], state["volume"], state["queue"], state["index"]) == ("Study", 35, [1, 2, 3], 1)
    assert await database_sync_to_async(Tracker.objects.filter(kind="player").count)() == 1


async def test_a_new_key_names_a_new_device_and_keys_are_per_user(alice, bob, ws_client):
    first = await keyed_device(ws_client, alice, "Phone", "k-phone-00001")
    second = await keyed_device(ws_client, alice, "Phone", "k-phone-00002")
    bobs = await keyed_device(ws_client, bob, "Phone", "k-phone-00001")
    assert len({first.tracker, second.tracker, bobs.tracker}) == 3
    state = ok(await first.request("tracker.state.get", {"tracker": first.tracker}))["state"]
    assert state["device"] == "Phone"


async def test_a_bad_key_is_refused_and_registers_nothing(alice, ws_client):
    client = await ws_client(alice)
    for key in ("", "   ", "x" * 101, 42):
        reply = await client.request("player.device.register", {"name": "Phone", "key": key})
        assert reply["error"]["code"] == "invalid_payload", (key, reply)
    assert not await database_sync_to_async(Tracker.objects.exists)()


async def test_the_owner_forgets_a_device_and_its_live_connection_is_told(alice, ws_client):
    kept = await keyed_device(ws_client, alice, "Desk", "k-desk-000001")
    gone = await keyed_device(ws_client, alice, "Old phone", "k-oldphone-01")
    ok(await gone.request("player.queue.replace", {"tracks": [4, 5]}))
    result = ok(await kept.request("player.device.forget", {"tracker": gone.tracker}))
    assert result == {"tracker": gone.tracker, "forgotten": True}
    told = await gone.event("player.device.forgotten")
    assert told["payload"] == {"tracker": gone.tracker}
    assert (await kept.event("player.device.forgotten"))["payload"] == {"tracker": gone.tracker}
    assert not await database_sync_to_async(Tracker.objects.filter(pk=gone.tracker).exists)()
    assert not await database_sync_to_async(TrackerAction.objects.filter(tracker_id=gone.tracker).exists)()
    listed = ok(await kept.request("tracker.list", {"kind": "player"}))
    assert [t["tracker"] for t in listed] == [kept.tracker]
    # Registering again with a new key gives a fresh device; the old id stays gone.
    fresh = ok(await gone.request("player.device.register", {"name": "Old phone", "key": "k-oldphone-02"}))
    assert fresh["tracker"] != gone.tracker and fresh["state"]["queue"] == []


async def test_only_the_owner_may_forget_a_device(alice, bob, make_user, ws_client):
    mine = await keyed_device(ws_client, alice, "Speaker", "k-speaker-001")
    ok(await mine.request("tracker.controllers.add", {"tracker": mine.tracker, "user": "bob"}))
    controller = await ws_client(bob)
    reply = await controller.request("player.device.forget", {"tracker": mine.tracker})
    assert reply["error"]["code"] == "forbidden", reply
    stranger = await ws_client(await database_sync_to_async(make_user)("eve"))
    reply = await stranger.request("player.device.forget", {"tracker": mine.tracker})
    assert reply["error"]["code"] == "forbidden", reply
    assert await database_sync_to_async(Tracker.objects.filter(pk=mine.tracker).exists)()


async def test_forget_refuses_unknown_ids_and_other_kinds(alice, ws_client):
    client = await keyed_device(ws_client, alice, "Desk", "k-desk-000002")
    reply = await client.request("player.device.forget", {"tracker": "00000000-0000-0000-0000-000000000000"})
    assert reply["error"]["code"] == "not_found", reply
    reply = await client.request("player.device.forget", {"tracker": "not-an-id"})
    assert reply["error"]["code"] == "invalid_payload", reply
    party = ok(await client.request("party.session.create", {}))
    reply = await client.request("player.device.forget", {"tracker": party["tracker"]})
    assert reply["error"]["code"] == "invalid_payload", reply
    assert await database_sync_to_async(Tracker.objects.filter(pk=party["tracker"]).exists)()
