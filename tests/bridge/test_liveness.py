"""Liveness against a real daphne (embedded mode): keepalive pings drop dead clients, and
device presence follows connections.

The server runs with ``--ping-interval 1 --ping-timeout 1`` (production: 15/15, see
``manage.py serve``) so a client that stops answering is dropped within a few seconds.
Presence across bridges (a killed bridge's devices expiring after ``PRESENCE_TTL``) is in
``tests/integration/test_faults.py``.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from devtools.deploy import EmbeddedServer
from devtools.wsclient import RawWebSocket, WsClient


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("liveness"), ("--ping-interval", "1", "--ping-timeout", "1"),
                            WS_RATE_LIMIT="1000", WS_RATE_BURST="1000", WS_AUTH_RECHECK="1")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(server):
    return server.make_users("keeper", "other", "revoked")


async def presence_event(client: WsClient, tracker: str, online: bool, timeout: float) -> dict:
    return await client.event("player.device.presence", timeout=timeout, tracker=tracker, online=online)


async def test_a_client_that_stops_answering_pings_is_dropped_and_its_device_goes_offline(server, tokens):
    async with WsClient(server.ws_url, tokens["keeper"]) as observer:
        frozen = await asyncio.to_thread(RawWebSocket, "127.0.0.1", server.port, headers={"Authorization": f"Token {tokens['keeper']}"})
        try:
            assert frozen.status == 101
            await asyncio.to_thread(frozen.recv_json)  # welcome
            reply = await asyncio.to_thread(frozen.request, 1, "player.device.register", {"name": "frozen"})
            tracker = reply["result"]["tracker"]
            online = await presence_event(observer, tracker, True, timeout=5)
            assert online["payload"]["connections"] == 1
            listed = (await observer.request("player.presence.list", {"tracker": tracker}))["result"]["devices"]
            assert listed == [{"tracker": tracker, "device": "frozen", "online": True, "connections": 1,
                               "last_seen": listed[0]["last_seen"]}]
            # From now on the client answers nothing: not even pings.
            frozen_at = time.monotonic()
            offline = await presence_event(observer, tracker, False, timeout=15)
            dropped_after = time.monotonic() - frozen_at
        finally:
            frozen.close()
        assert offline["payload"]["connections"] == 0 and offline["payload"]["last_seen"]
        # ping after 1 s of silence, 1 s for the pong, daphne checks every 2 s
        assert dropped_after < 8, dropped_after
        listed = (await observer.request("player.presence.list", {"tracker": tracker}))["result"]["devices"]
        assert listed[0]["online"] is False and listed[0]["connections"] == 0


async def test_an_idle_client_that_answers_pings_stays_connected(server, tokens):
    async with WsClient(server.ws_url, tokens["keeper"]) as client:
        await asyncio.sleep(5)  # several ping rounds; the websockets library answers them
        reply = await client.request("system.health.ping")
        assert reply["ok"] is True


async def test_device_is_online_while_any_of_its_connections_is(server, tokens):
    async with WsClient(server.ws_url, tokens["keeper"]) as observer:
        first = await websockets.connect(server.ws_url, additional_headers={"Authorization": f"Token {tokens['keeper']}"})
        second = await websockets.connect(server.ws_url, additional_headers={"Authorization": f"Token {tokens['keeper']}"})
        trackers = []
        for ws in (first, second):
            await ws.recv()
            await ws.send(json.dumps({"id": 1, "action": "player.device.register", "payload": {"name": "twin"}}))
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("id") == 1:
                    trackers.append(frame["result"]["tracker"])
                    break
        assert trackers[0] == trackers[1]
        tracker = trackers[0]
        await presence_event(observer, tracker, True, timeout=5)
        await first.close()
        await asyncio.sleep(1.0)
        status = (await observer.request("player.presence.list", {"tracker": tracker}))["result"]["devices"][0]
        assert status["online"] is True and status["connections"] == 1
        assert not [e for e in observer.events if e["event"] == "player.device.presence" and not e["payload"]["online"]]
        await second.close()
        offline = await presence_event(observer, tracker, False, timeout=5)
        assert offline["payload"]["connections"] == 0


async def test_presence_of_someone_elses_device_is_not_shown(server, tokens):
    async with WsClient(server.ws_url, tokens["keeper"]) as keeper, WsClient(server.ws_url, tokens["other"]) as other:
        tracker = (await keeper.request("player.device.register", {"name": "private"}))["result"]["tracker"]
        reply = await other.request("player.presence.list", {"tracker": tracker})
        assert reply["ok"] is False and reply["error"]["code"] in ("forbidden", "not_found")
        mine = (await other.request("player.presence.list"))["result"]["devices"]
        assert tracker not in [d["tracker"] for d in mine]
        await asyncio.sleep(0.5)
        assert not [e for e in other.events if e["event"] == "player.device.presence"]


async def test_a_token_deleted_while_connected_closes_the_connection_4401(server, tokens):
    headers = {"Authorization": f"Token {tokens['revoked']}"}
    ws = await websockets.connect(server.ws_url, additional_headers=headers)
    await ws.recv()
    await asyncio.to_thread(server.manage, "shell", "-c",
                            f"from rest_framework.authtoken.models import Token; Token.objects.filter(key={tokens['revoked']!r}).delete()")
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)  # WS_AUTH_RECHECK is 1 s here
    assert ws.close_code == 4401
    # and it cannot connect again
    again = await websockets.connect(server.ws_url, additional_headers=headers)
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await asyncio.wait_for(again.recv(), 5)
    assert again.close_code == 4401
