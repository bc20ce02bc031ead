"""Two daphne bridges and one runworker process on Redis and PostgreSQL."""
from __future__ import annotations

import asyncio
import socket
import time

import pytest

from devtools.bench.fanout import make_tracks

from devtools.wsclient import WsClient

pytestmark = pytest.mark.integration


async def test_request_on_bridge_a_is_handled_by_the_worker_process(stack):
    token = stack.make_user("alice")
    worker_pid = stack.processes["worker-1"].pid
    async with WsClient(stack.ws_url("bridge-a"), token) as client:
        reply = await client.request("system.health.ping")
    assert reply["ok"] is True, reply
    assert reply["result"] == {"pong": True, "handled_by": f"{socket.gethostname()}:{worker_pid}", "mode": "queue"}
    bridge_pid = stack.processes["bridge-a"].pid
    assert reply["result"]["handled_by"] != f"{socket.gethostname()}:{bridge_pid}"


async def test_broadcast_through_bridge_b_reaches_a_client_on_bridge_a(stack):
    listener_token = stack.make_user("listener")
    staff_token = stack.make_user("announcer", staff=True)
    async with WsClient(stack.ws_url("bridge-a"), listener_token) as listener:
        async with WsClient(stack.ws_url("bridge-b"), staff_token) as sender:
            reply = await sender.request("system.announcement.send", {"text": "Maintenance at 22:00"})
            assert reply["ok"] is True, reply
            event = await listener.event("system.announcement.created", timeout=10)
    assert event["payload"] == {"text": "Maintenance at 22:00"}


async def test_with_the_worker_stopped_requests_time_out_and_the_bridge_stays_up(stack):
    token = stack.make_user("patient")
    stack.stop("worker-1")
    try:
        async with WsClient(stack.ws_url("bridge-a"), token) as client:
            started = time.monotonic()
            reply = await client.request("system.health.ping", timeout=15)
            elapsed = time.monotonic() - started
            assert reply["ok"] is False and reply["error"]["code"] == "timeout", reply
            assert elapsed < 2 + 1.5  # RPC_TIMEOUT is 2 s in the stack
            # The same connection carries on, and so does the bridge.
            second = await client.request("system.health.ping", timeout=15)
            assert second["error"]["code"] == "timeout"
        status, body = await asyncio.to_thread(stack.health, "bridge-a")
        assert status == 503 and body["down"] == ["worker"]
        assert stack.processes["bridge-a"].poll() is None
    finally:
        stack.start_worker("worker-1")
    await asyncio.to_thread(stack.wait_healthy, "bridge-a")


async def test_tracker_flows_across_two_bridges(stack):
    """Devices on different bridges: live pause, remote control, hand-off and resync."""
    token = stack.make_user("traveller")
    tracks = (await asyncio.to_thread(make_tracks, stack, 3))[:3]  # queues take only tracks that exist
    async with WsClient(stack.ws_url("bridge-a"), token) as a, WsClient(stack.ws_url("bridge-b"), token) as b:
        device_a = (await a.request("player.device.register", {"name": "Desktop"}))["result"]["tracker"]
        device_b = (await b.request("player.device.register", {"name": "Phone"}))["result"]["tracker"]
        assert (await b.request("tracker.subscribe", {"tracker": device_a}))["ok"]
        assert (await a.request("player.queue.replace", {"tracks": tracks, "play": True}))["ok"]
        assert (await b.event("tracker.action.applied", action="player.queue.replace"))["payload"]["tracker"] == device_a
        assert (await a.request("player.playback.pause"))["ok"]
        paused = await b.event("tracker.action.applied", action="player.playback.pause")
        assert paused["payload"]["tracker"] == device_a and paused["payload"]["changes"]["playing"] is False
        # B remote-controls A; A hears it through its own subscription.
        assert (await b.request("player.playback.play", {"tracker": device_a, "index": 2}))["ok"]
        played = await a.event("tracker.action.applied", action="player.playback.play")
        assert played["payload"]["changes"]["index"] == 2
        # Hand-off from A (bridge A) to B (bridge B).
        reply = await a.request("player.queue.transfer", {"to": device_b})
        assert reply["ok"], reply
        taken = await b.event("tracker.action.applied", action="player.queue.take", tracker=device_b)
        assert taken["payload"]["changes"]["queue"] == tracks and taken["payload"]["changes"]["playing"] is True
        seen = (await b.request("tracker.state.get", {"tracker": device_a}))["result"]
    # A client that reconnects to the other bridge resyncs from the version it saw.
    async with WsClient(stack.ws_url("bridge-b"), token) as again:
        async with WsClient(stack.ws_url("bridge-a"), token) as a2:
            await a2.request("player.volume.set", {"tracker": device_a, "volume": 20})
        resync = (await again.request("tracker.subscribe", {"tracker": device_a, "since_version": seen["version"]}))["result"]
        state = dict(seen["state"])
        for action in resync["actions"]:
            state.update(action["changes"])
        fresh = (await again.request("tracker.state.get", {"tracker": device_a}))["result"]
    assert state == fresh["state"] and state["volume"] == 20


async def test_the_connection_cap_per_user_holds_across_bridges(stack):
    """WS_MAX_CONNECTIONS_PER_USER (default 20) counts a user's connections on every bridge."""
    import websockets

    token = stack.make_user("hoarder")
    bridges = ("bridge-a", "bridge-b")
    clients = []
    try:
        for i in range(20):
            client = WsClient(stack.ws_url(bridges[i % 2]), token)
            clients.append(await client.__aenter__())
        for bridge in bridges:
            async with websockets.connect(stack.ws_url(bridge), additional_headers={"Authorization": f"Token {token}"}) as extra:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(extra.recv(), 10)
                assert closed.value.rcvd.code == 4409, bridge
        bystander = stack.make_user("bystander")
        try:
            async with WsClient(stack.ws_url("bridge-a"), bystander):
                pass  # other users are not affected
        except websockets.ConnectionClosed as closed:  # say what the bridge raised, if it did
            raise AssertionError(f"{closed}\n{stack.log('bridge-a')[-6000:]}") from closed
        await clients.pop(0).__aexit__(None, None, None)  # one closed on bridge A ...
        await asyncio.sleep(0.2)  # (its bridge removes it just after the close handshake)
        async with WsClient(stack.ws_url("bridge-b"), token) as again:  # ... makes room on bridge B
            assert again.welcome["payload"]["user"]["username"] == "hoarder"
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)
