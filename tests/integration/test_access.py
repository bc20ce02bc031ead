"""Access that changes while a socket is open, across two bridges on Redis (``tracker.access``).

The affected client sits on bridge B; the change is made on bridge A (or, for changes to
a user's record, by another process, as the admin would). It hears
``tracker.subscription.revoked`` (or ``system.session.user_changed``) at once, then no
further events of the tracker, and a demoted user's staff actions are refused at once.
"""
from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from devtools.wsclient import WsClient

pytestmark = pytest.mark.integration

APPLIED = "tracker.action.applied"
REVOKED = "tracker.subscription.revoked"


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def assert_no_event(client: WsClient, name: str, wait: float = 1.0) -> None:
    """Nothing called ``name`` arrives within ``wait`` seconds (other frames are kept)."""
    try:
        while True:
            frame = await client.receive(timeout=wait)
            assert frame.get("event") != name, frame
            client.events.append(frame)
    except asyncio.TimeoutError:
        pass


def change_user(stack, username: str, **fields) -> None:
    """Save a user's fields from another process (as the admin would)."""
    assignments = "; ".join(f"u.{key} = {value!r}" for key, value in fields.items())
    stack.manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                 f"u = get_user_model().objects.get(username={username!r}); {assignments}; u.save()")


async def test_a_controller_removed_on_one_bridge_stops_following_on_the_other(stack):
    tokens = stack.make_users("owner1", "remote1")
    async with WsClient(stack.ws_url("bridge-a"), tokens["owner1"]) as owner:
        tracker = ok(await owner.request("player.device.register", {"name": "Speaker"}))["tracker"]
        ok(await owner.request("tracker.controllers.add", {"tracker": tracker, "user": "remote1"}))
        async with WsClient(stack.ws_url("bridge-b"), tokens["remote1"]) as remote:
            ok(await remote.request("tracker.subscribe", {"tracker": tracker}))
            ok(await owner.request("player.volume.set", {"volume": 10}))
            await remote.event(APPLIED, action="player.volume.set")
            ok(await owner.request("tracker.controllers.remove", {"tracker": tracker, "user": "remote1"}))
            revoked = await remote.event(REVOKED)
            assert revoked["payload"] == {"tracker": tracker, "reason": "controller_removed"}
            remote.events.clear()
            ok(await owner.request("player.volume.set", {"volume": 20}))
            await assert_no_event(remote, APPLIED)
            assert (await remote.request("player.volume.set", {"tracker": tracker, "volume": 1}))["error"]["code"] == "forbidden"


async def test_a_member_who_left_and_then_everyone_when_the_party_ended_stop_following(stack):
    tokens = stack.make_users("host2", "guest2", "other2")
    async with WsClient(stack.ws_url("bridge-a"), tokens["host2"]) as host, \
            WsClient(stack.ws_url("bridge-b"), tokens["guest2"]) as guest, \
            WsClient(stack.ws_url("bridge-b"), tokens["other2"]) as other, \
            WsClient(stack.ws_url("bridge-a"), tokens["guest2"]) as guest_phone:
        party = ok(await host.request("party.session.create", {"name": "Friday"}))["tracker"]
        for client in (guest, other):
            ok(await client.request("party.session.join", {"tracker": party}))
            ok(await client.request("tracker.subscribe", {"tracker": party}))
        # The guest leaves from their phone on bridge A; their connection on bridge B stops following.
        ok(await guest_phone.request("party.session.leave", {"tracker": party}))
        assert (await guest.event(REVOKED))["payload"] == {"tracker": party, "reason": "party_left"}
        guest.events.clear()
        ok(await host.request("party.control.set", {"tracker": party, "members_control": True}))
        await other.event(APPLIED, action="party.control.set")
        await assert_no_event(guest, APPLIED)
        # The host ends the party on bridge A: the remaining member on bridge B stops following.
        ok(await host.request("party.session.end", {"tracker": party}))
        assert (await other.event(REVOKED))["payload"] == {"tracker": party, "reason": "party_ended"}
        other.events.clear()
        assert (await other.request("tracker.subscribe", {"tracker": party}))["error"]["code"] == "forbidden"
        await assert_no_event(other, APPLIED)


async def test_a_deactivated_user_is_told_and_disconnected_at_once(stack):
    tokens = stack.make_users("owner3", "remote3")
    async with WsClient(stack.ws_url("bridge-a"), tokens["owner3"]) as owner:
        tracker = ok(await owner.request("player.device.register", {"name": "Speaker"}))["tracker"]
        ok(await owner.request("tracker.controllers.add", {"tracker": tracker, "user": "remote3"}))
        async with WsClient(stack.ws_url("bridge-b"), tokens["remote3"]) as remote:
            ok(await remote.request("tracker.subscribe", {"tracker": tracker}))
            await asyncio.to_thread(change_user, stack, "remote3", is_active=False)
            revoked = await remote.event(REVOKED, timeout=5)  # WS_AUTH_RECHECK (30 s) would be later
            assert revoked["payload"] == {"tracker": tracker, "reason": "account_changed"}
            ok(await owner.request("player.volume.set", {"volume": 30}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    frame = await remote.receive(timeout=5)
                    assert frame.get("event") != APPLIED, frame
            assert closed.value.rcvd.code == 4401


async def test_a_demoted_staff_user_loses_staff_actions_at_once(stack):
    token = stack.make_users("staff4", staff=True)["staff4"]
    async with WsClient(stack.ws_url("bridge-b"), token) as client:
        assert client.welcome["payload"]["user"]["is_staff"] is True
        ok(await client.request("system.announcement.send", {"text": "before"}))
        await asyncio.to_thread(change_user, stack, "staff4", is_staff=False)
        changed = await client.event("system.session.user_changed", timeout=5)
        assert changed["payload"]["user"]["is_staff"] is False
        refused = await client.request("system.announcement.send", {"text": "after"})
        assert refused["error"]["code"] == "forbidden", json.dumps(refused)
