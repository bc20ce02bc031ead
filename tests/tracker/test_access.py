"""Access that changes while a socket is open (``tracker.access``), on the real ASGI app.

Whoever loses the right to read a tracker (controller removed, party left or ended, user
deactivated) stops following it at once and is told; a demoted user loses staff actions
at once. The same cases across two bridges on Redis: tests/integration/test_access.py.
"""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

APPLIED = "tracker.action.applied"
REVOKED = "tracker.subscription.revoked"


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def users(make_user, *names, staff=False):
    return [await database_sync_to_async(make_user)(name, staff=staff) for name in names]


async def assert_no_event(client, name: str, wait: float = 0.5) -> None:
    """Nothing called ``name`` arrives within ``wait`` seconds (other frames are kept)."""
    while not await client.communicator.receive_nothing(timeout=wait, interval=0.02):
        frame = await client.receive()
        assert frame.get("event") != name, frame
        client.events.append(frame)


@database_sync_to_async
def update_user(user, **fields):
    for key, value in fields.items():
        setattr(user, key, value)
    user.save()


async def controlled_device(ws_client, owner, controller):
    """``owner``'s device with ``controller`` made a controller and subscribed to it."""
    device = await ws_client(owner)
    tracker = ok(await device.request("player.device.register", {"name": "Speaker"}))["tracker"]
    ok(await device.request("tracker.controllers.add", {"tracker": tracker, "user": controller.username}))
    remote = await ws_client(controller)
    ok(await remote.request("tracker.subscribe", {"tracker": tracker}))
    return device, remote, tracker


async def test_a_removed_controller_stops_following_at_once(make_user, ws_client):
    alice, bob = await users(make_user, "alice", "bob")
    device, remote, tracker = await controlled_device(ws_client, alice, bob)
    ok(await device.request("player.volume.set", {"volume": 10}))
    assert (await remote.event(APPLIED))["payload"]["changes"] == {"volume": 10}
    ok(await device.request("tracker.controllers.remove", {"tracker": tracker, "user": "bob"}))
    revoked = await remote.event(REVOKED)
    assert revoked["payload"] == {"tracker": tracker, "reason": "controller_removed"}
    remote.events.clear()
    ok(await device.request("player.volume.set", {"volume": 20}))
    await assert_no_event(remote, APPLIED)
    assert (await remote.request("tracker.subscribe", {"tracker": tracker}))["error"]["code"] == "forbidden"


async def test_a_member_who_left_and_everyone_when_the_party_ends_stop_following(make_user, ws_client):
    alice, bob, carol = await users(make_user, "alice", "bob", "carol")
    host = await ws_client(alice)
    party = ok(await host.request("party.session.create", {"name": "Friday"}))["tracker"]
    ok(await host.request("tracker.subscribe", {"tracker": party}))
    guests = {}
    for user in (bob, carol):
        guests[user.username] = await ws_client(user)
        ok(await guests[user.username].request("party.session.join", {"tracker": party}))
        ok(await guests[user.username].request("tracker.subscribe", {"tracker": party}))
    bob_phone = await ws_client(bob)  # bob leaves from another connection: every one of his stops
    ok(await bob_phone.request("party.session.leave", {"tracker": party}))
    assert (await guests["bob"].event(REVOKED))["payload"] == {"tracker": party, "reason": "party_left"}
    guests["bob"].events.clear()
    ok(await host.request("party.control.set", {"tracker": party, "members_control": True}))
    assert (await guests["carol"].event(APPLIED, action="party.control.set"))
    await assert_no_event(guests["bob"], APPLIED)

    ok(await host.request("party.session.end", {"tracker": party}))
    for client in (host, guests["carol"]):
        assert (await client.event(REVOKED))["payload"] == {"tracker": party, "reason": "party_ended"}
        assert (await client.request("tracker.state.get", {"tracker": party}))["error"]["code"] == "forbidden"
    assert ok(await host.request("tracker.list", {"kind": "party"})) == []


async def test_a_deactivated_user_is_told_and_disconnected(make_user, ws_client):
    alice, bob = await users(make_user, "alice", "bob")
    device, remote, tracker = await controlled_device(ws_client, alice, bob)
    await update_user(bob, is_active=False)
    assert (await remote.event(REVOKED))["payload"] == {"tracker": tracker, "reason": "account_changed"}
    assert await remote.communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_demoted_staff_user_loses_staff_actions_at_once(make_user, ws_client):
    (admin,) = await users(make_user, "admin", staff=True)
    client = await ws_client(admin)
    ok(await client.request("system.announcement.send", {"text": "one"}))
    await update_user(admin, is_staff=False)
    changed = await client.event("system.session.user_changed")
    assert changed["payload"]["user"] == {"id": admin.pk, "username": "admin", "is_staff": False}
    assert (await client.request("system.announcement.send", {"text": "two"}))["error"]["code"] == "forbidden"
    await update_user(admin, is_staff=True)
    assert (await client.event("system.session.user_changed"))["payload"]["user"]["is_staff"] is True
    ok(await client.request("system.announcement.send", {"text": "three"}))


async def test_a_forbidden_subscribe_never_joins_the_trackers_group(make_user, ws_client, monkeypatch):
    """Checked before joining: not even for a moment does a stranger's connection follow the
    tracker (joining first let a stranger repeating the request catch events)."""
    from bridge.ws.fanout import GROUPS

    alice, mallory = await users(make_user, "alice", "mallory")
    device = await ws_client(alice)
    tracker = ok(await device.request("player.device.register", {"name": "Speaker"}))["tracker"]
    stranger = await ws_client(mallory)
    joined = []
    original = GROUPS.join

    async def recording_join(group, consumer):
        joined.append(group)
        await original(group, consumer)

    monkeypatch.setattr(GROUPS, "join", recording_join)
    for _ in range(3):
        assert (await stranger.request("tracker.subscribe", {"tracker": tracker}))["error"]["code"] == "forbidden"
    assert joined == []
    ok(await device.request("player.volume.set", {"volume": 5}))
    await assert_no_event(stranger, APPLIED)


async def test_controllers_removed_any_way_are_told(make_user, ws_client):
    """The rule lives in the model's m2m signal: the admin's clear() or a reverse remove() count too."""
    from tracker.models import Tracker

    alice, bob, carol = await users(make_user, "alice", "bob", "carol")
    device, bob_remote, tracker = await controlled_device(ws_client, alice, bob)
    ok(await device.request("tracker.controllers.add", {"tracker": tracker, "user": "carol"}))
    carol_remote = await ws_client(carol)
    ok(await carol_remote.request("tracker.subscribe", {"tracker": tracker}))
    await database_sync_to_async(lambda: carol.controlled_trackers.remove(Tracker.objects.get(pk=tracker)))()
    assert (await carol_remote.event(REVOKED))["payload"] == {"tracker": tracker, "reason": "controller_removed"}
    await database_sync_to_async(lambda: Tracker.objects.get(pk=tracker).controllers.clear())()
    assert (await bob_remote.event(REVOKED))["payload"] == {"tracker": tracker, "reason": "controller_removed"}
