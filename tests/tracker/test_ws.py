"""Trackers over the WebSocket: devices, live sync, remote control, hand-off, resync, parties."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def tracks():
    """Tracks 1-30: queues take only tracks that exist."""
    from tests.library import factories as f

    await database_sync_to_async(f.tracks_with_ids)(range(1, 31))


@pytest.fixture
async def alice(make_user):
    return await database_sync_to_async(make_user)("alice")


@pytest.fixture
async def bob(make_user):
    return await database_sync_to_async(make_user)("bob")


async def device(ws_client, user, name):
    client = await ws_client(user)
    reply = await client.request("player.device.register", {"name": name})
    assert reply["ok"], reply
    client.tracker = reply["result"]["tracker"]
    return client


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def test_same_device_name_gives_the_same_tracker(alice, ws_client):
    first = await device(ws_client, alice, "Kitchen")
    second = await device(ws_client, alice, "Kitchen")
    other = await device(ws_client, alice, "Phone")
    assert first.tracker == second.tracker != other.tracker


async def test_pause_on_device_a_reaches_device_b(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    b = await device(ws_client, alice, "Phone")
    ok(await b.request("tracker.subscribe", {"tracker": a.tracker}))
    ok(await a.request("player.queue.replace", {"tracks": [11, 12, 13], "play": True}))
    started = await b.event("tracker.action.applied")
    assert started["payload"]["action"] == "player.queue.replace"
    assert started["payload"]["changes"]["playing"] is True
    ok(await a.request("player.playback.pause"))
    paused = await b.event("tracker.action.applied")
    assert paused["payload"]["tracker"] == a.tracker
    assert paused["payload"]["action"] == "player.playback.pause"
    assert paused["payload"]["version"] == started["payload"]["version"] + 1
    assert paused["payload"]["changes"]["playing"] is False


async def test_b_remote_controls_a_by_naming_its_tracker(alice, ws_client):
    a = await device(ws_client, alice, "Speaker")
    b = await device(ws_client, alice, "Phone")
    ok(await a.request("player.queue.replace", {"tracks": [1, 2]}))
    ok(await b.request("player.playback.play", {"tracker": a.tracker, "index": 1}))
    event = await a.event("tracker.action.applied", action="player.playback.play")
    assert event["payload"]["changes"]["index"] == 1
    state = ok(await a.request("tracker.state.get", {"tracker": a.tracker}))["state"]
    assert state["playing"] is True and state["index"] == 1


async def test_hand_off_moves_queue_and_position(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    b = await device(ws_client, alice, "Phone")
    ok(await a.request("player.queue.replace", {"tracks": [7, 8, 9], "index": 2, "position_ms": 61_000, "play": True}))
    ok(await a.request("player.playback.pause"))
    result = ok(await a.request("player.queue.transfer", {"to": b.tracker}))
    assert result["target"]["tracker"] == b.tracker
    source = ok(await a.request("tracker.state.get", {"tracker": a.tracker}))["state"]
    target = ok(await b.request("tracker.state.get", {"tracker": b.tracker}))["state"]
    assert source["playing"] is False and source["transferred_to"] == b.tracker
    assert target["queue"] == [7, 8, 9] and target["index"] == 2
    assert target["playing"] is False  # it was paused: it stays paused
    assert 61_000 <= target["position_ms"] <= 62_000
    taken = await b.event("tracker.action.applied")
    assert taken["payload"]["action"] == "player.queue.take"


async def test_hand_off_continues_from_the_position_the_source_device_reports(alice, ws_client):
    """The source device says where its audio is (at a server time): the target plays on from there, not from the server's guess."""
    a = await device(ws_client, alice, "Desktop")
    b = await device(ws_client, alice, "Phone")
    ok(await a.request("player.queue.replace", {"tracks": [7, 8], "position_ms": 10_000, "play": True}))
    reported_at = (await a.request("system.health.ping"))["time"] - 100
    ok(await a.request("player.queue.transfer", {"to": b.tracker, "position_ms": 4_000, "position_at": reported_at}))
    source = ok(await a.request("tracker.state.get", {"tracker": a.tracker}))["state"]
    target = ok(await b.request("tracker.state.get", {"tracker": b.tracker}))["state"]
    assert target["playing"] is True
    # 4 s at the report, plus what played since (100 ms and the request's own time).
    assert 4_100 <= target["position_ms"] <= 4_600
    assert source["position_ms"] == target["position_ms"] and source["playing"] is False


async def test_other_user_is_forbidden_until_made_a_controller(alice, bob, ws_client):
    a = await device(ws_client, alice, "Living room")
    intruder = await ws_client(bob)
    for action, payload in [
        ("player.playback.pause", {"tracker": a.tracker}),
        ("tracker.subscribe", {"tracker": a.tracker}),
        ("tracker.state.get", {"tracker": a.tracker}),
        ("tracker.controllers.add", {"tracker": a.tracker, "user": "bob"}),
    ]:
        reply = await intruder.request(action, payload)
        assert reply["error"]["code"] == "forbidden", (action, reply)
    ok(await a.request("tracker.controllers.add", {"tracker": a.tracker, "user": "bob"}))
    ok(await intruder.request("tracker.subscribe", {"tracker": a.tracker}))
    ok(await a.request("player.volume.set", {"volume": 30}))
    assert (await intruder.event("tracker.action.applied"))["payload"]["changes"] == {"volume": 30}
    ok(await intruder.request("player.volume.set", {"tracker": a.tracker, "volume": 55}))
    listed = ok(await intruder.request("tracker.list", {"kind": "player"}))
    assert [t["tracker"] for t in listed] == [a.tracker]
    ok(await a.request("tracker.controllers.remove", {"tracker": a.tracker, "user": "bob"}))
    assert (await intruder.request("player.playback.pause", {"tracker": a.tracker}))["error"]["code"] == "forbidden"


async def test_client_that_missed_events_resyncs_to_the_same_state_as_a_fresh_one(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    ok(await a.request("player.queue.replace", {"tracks": [1, 2, 3]}))
    seen = ok(await a.request("tracker.state.get", {"tracker": a.tracker}))
    # Changes the sleeping client does not hear about.
    for action, payload in [("player.playback.play", {"index": 2}), ("player.volume.set", {"volume": 12}), ("player.playback.previous", {})]:
        ok(await a.request(action, payload))
    sleeper = await ws_client(alice)
    resync = ok(await sleeper.request("tracker.subscribe", {"tracker": a.tracker, "since_version": seen["version"]}))
    state = dict(seen["state"])
    versions = []
    for action in resync["actions"]:
        versions.append(action["version"])
        state.update(action["changes"])
    assert versions == [seen["version"] + 1, seen["version"] + 2, seen["version"] + 3]
    fresh = ok(await (await ws_client(alice)).request("tracker.subscribe", {"tracker": a.tracker}))
    assert fresh["actions"] is None and fresh["version"] == resync["version"]
    assert state == fresh["state"]


async def test_unknown_since_version_gets_a_snapshot(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    result = ok(await a.request("tracker.subscribe", {"tracker": a.tracker, "since_version": 999}))
    assert result["actions"] is None and result["state"]["device"] == "Desktop"


async def test_expected_version_conflict(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    reply = await a.request("player.volume.set", {"volume": 3, "expected_version": 0})
    assert reply["error"]["code"] == "conflict"
    ok(await a.request("player.volume.set", {"volume": 3, "expected_version": 1}))


async def test_player_action_without_a_device_or_tracker_says_what_to_do(alice, ws_client):
    client = await ws_client(alice)
    reply = await client.request("player.playback.pause")
    assert reply["error"]["code"] == "invalid_payload"
    assert "player.device.register" in reply["error"]["message"]


async def test_legacy_player_names(alice, ws_client):
    a = await device(ws_client, alice, "Desktop")
    ok(await a.request("player:queue", {"tracks": [4, 5]}))
    ok(await a.request("player:play", {}))
    ok(await a.request("player:pause", {}))
    state = ok(await a.request("tracker.state.get", {"tracker": a.tracker}))["state"]
    assert state["queue"] == [4, 5] and state["playing"] is False


async def test_party_members_share_one_queue(alice, bob, make_user, ws_client):
    carol = await database_sync_to_async(make_user)("carol")
    host = await ws_client(alice)
    party = ok(await host.request("party.session.create", {"name": "Friday"}))
    tracker = party["tracker"]
    ok(await host.request("tracker.subscribe", {"tracker": tracker}))
    guest = await ws_client(bob)
    outsider = await ws_client(carol)
    assert (await outsider.request("tracker.subscribe", {"tracker": tracker}))["error"]["code"] == "forbidden"
    ok(await guest.request("party.session.join", {"tracker": tracker}))
    ok(await guest.request("tracker.subscribe", {"tracker": tracker}))
    ok(await host.request("player.queue.replace", {"tracker": tracker, "tracks": [21, 22], "play": True}))
    heard = await guest.event("tracker.action.applied")
    assert heard["payload"]["changes"]["queue"] == [21, 22] and heard["payload"]["changes"]["playing"] is True
    # Members may not control playback until the host allows it.
    assert (await guest.request("player.playback.pause", {"tracker": tracker}))["error"]["code"] == "forbidden"
    ok(await host.request("party.control.set", {"tracker": tracker, "members_control": True}))
    ok(await guest.request("player.playback.pause", {"tracker": tracker}))


async def test_removing_a_controller_answers_alike_for_existing_and_unknown_usernames(alice, bob, ws_client):
    """No username enumeration: removing a user who exists but controls nothing looks like removing nobody."""
    a = await device(ws_client, alice, "Desktop")
    replies = []
    for username in ("bob", "no-such-user"):
        reply = await a.request("tracker.controllers.remove", {"tracker": a.tracker, "user": username})
        replies.append({key: value for key, value in reply.items() if key not in ("id", "time")})
    assert replies[0] == replies[1] == {"ok": True, "result": {"tracker": a.tracker, "controllers": []}}
    stranger = await ws_client(bob)
    for username in ("alice", "no-such-user"):
        reply = await stranger.request("tracker.controllers.remove", {"tracker": a.tracker, "user": username})
        assert reply["error"]["code"] == "forbidden", reply
