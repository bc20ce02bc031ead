"""The WebSocket consumer through the real ASGI app: auth, welcome, ping, bad input."""
from __future__ import annotations

import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from mediaproject.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice(make_user):
    return make_user("alice")


async def test_token_client_gets_welcome_and_ping_reply(alice, ws_client):
    client = await ws_client(alice)
    assert client.welcome["payload"]["protocol"] == 1
    assert client.welcome["payload"]["user"] == {"id": alice.pk, "username": "alice", "is_staff": False}
    assert client.welcome["payload"]["connection"]
    reply = await client.request("system.health.ping")
    assert reply["ok"] is True
    assert reply["result"]["pong"] is True
    assert reply["result"]["mode"] == "inline"
    assert ":" in reply["result"]["handled_by"]


async def test_replies_and_events_carry_the_servers_time(alice, ws_client):
    """A reply's ``time`` lies between its request's sending and its arrival (a client bounds its clock offset with it)."""
    client = await ws_client(alice)
    assert isinstance(client.welcome["time"], int)
    sent = time.time_ns() // 1_000_000
    reply = await client.request("system.health.ping")
    received = time.time_ns() // 1_000_000
    assert sent <= reply["time"] <= received


async def test_legacy_name_is_rewritten(alice, ws_client):
    client = await ws_client(alice)
    reply = await client.request("system:ping")
    assert reply["ok"] is True and reply["result"]["pong"] is True


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"authorization", b"Token not-a-real-token")],
        [(b"authorization", b"Bearer x")],
    ],
    ids=["no-credentials", "unknown-token", "wrong-scheme"],
)
async def test_unauthenticated_connection_is_closed_4401(headers):
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}


async def test_inactive_users_token_is_refused(alice, token_for):
    key = await database_sync_to_async(token_for)(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"authorization", f"Token {key}".encode())])
    await communicator.connect()
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_disallowed_origin_is_refused_at_handshake(alice, token_for):
    key = await database_sync_to_async(token_for)(alice)
    headers = [(b"origin", b"https://evil.example"), (b"authorization", f"Token {key}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected


async def _session_cookie(user) -> str:
    def login():
        http = HttpClient()
        http.force_login(user)
        return http.cookies["sessionid"].value

    return await database_sync_to_async(login)()


async def test_browser_session_with_allowed_origin_is_accepted(alice, ws_client):
    cookie = await _session_cookie(alice)
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000"), (b"cookie", f"sessionid={cookie}".encode())]
    client = await ws_client(headers=headers)
    assert client.welcome["payload"]["user"]["username"] == "alice"


async def test_session_cookie_without_origin_is_not_honoured(alice):
    cookie = await _session_cookie(alice)
    communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"cookie", f"sessionid={cookie}".encode())])
    await communicator.connect()
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


BAD_FRAMES = [
    ("not json", "{oops", None, "bad_request"),
    ("array", "[1, 2]", None, "bad_request"),
    ("missing id", json.dumps({"action": "system.health.ping"}), None, "bad_request"),
    ("bool id", json.dumps({"id": True, "action": "system.health.ping"}), None, "bad_request"),
    ("missing action", json.dumps({"id": 7}), 7, "bad_request"),
    ("extra key", json.dumps({"id": 8, "action": "system.health.ping", "type": "bus.reply"}), 8, "bad_request"),
    ("unknown action", json.dumps({"id": "u", "action": "no.such.thing"}), "u", "unknown_action"),
    ("channels type as action", json.dumps({"id": "t", "action": "bus_reply"}), "t", "unknown_action"),
    ("payload not object", json.dumps({"id": 9, "action": "system.health.ping", "payload": [1]}), 9, "invalid_payload"),
    ("unknown payload field", json.dumps({"id": 10, "action": "system.health.ping", "payload": {"x": 1}}), 10, "invalid_payload"),
    ("wrong payload type", json.dumps({"id": 11, "action": "system.announcement.send", "payload": {"text": 5}}), 11, "invalid_payload"),
    ("staff only", json.dumps({"id": 12, "action": "system.announcement.send", "payload": {"text": "hi"}}), 12, "forbidden"),
]


@pytest.mark.parametrize("text,request_id,code", [row[1:] for row in BAD_FRAMES], ids=[row[0] for row in BAD_FRAMES])
async def test_bad_input_gets_error_reply_and_connection_carries_on(alice, ws_client, text, request_id, code):
    client = await ws_client(alice)
    await client.send_raw(text)
    reply = await client.receive()
    assert reply["ok"] is False
    assert reply["id"] == request_id
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]
    # The same connection still works.
    assert (await client.request("system.health.ping"))["ok"] is True


async def test_binary_frame_is_refused(alice, ws_client):
    client = await ws_client(alice)
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    reply = await client.receive()
    assert reply["error"]["code"] == "bad_request"
    assert (await client.request("system.health.ping"))["ok"] is True


async def test_oversized_frame_is_refused(alice, ws_client, settings):
    settings.WS_MAX_FRAME_BYTES = 1024
    client = await ws_client(alice)
    await client.send_raw(json.dumps({"id": 1, "action": "system.health.ping", "payload": {"x": "a" * 2000}}))
    reply = await client.receive()
    assert reply["error"]["code"] == "too_large"
    assert (await client.request("system.health.ping"))["ok"] is True


async def test_flood_is_rate_limited_and_others_carry_on(alice, make_user, ws_client, settings):
    settings.WS_RATE_LIMIT = 1.0
    settings.WS_RATE_BURST = 5
    bob = await database_sync_to_async(make_user)("bob")
    flooder = await ws_client(alice)
    other = await ws_client(bob)
    for i in range(20):
        await flooder.send_raw(json.dumps({"id": i, "action": "system.health.ping"}))
    replies = [await flooder.receive() for _ in range(20)]
    codes = [r["result"]["pong"] if r["ok"] else r["error"]["code"] for r in replies]
    assert codes.count(True) == 5
    assert codes.count("rate_limited") == 15
    assert sorted(r["id"] for r in replies) == list(range(20))
    assert (await other.request("system.health.ping"))["ok"] is True


async def test_staff_announcement_reaches_every_connected_user(make_user, ws_client):
    boss = await database_sync_to_async(make_user)("boss", staff=True)
    alice = await database_sync_to_async(make_user)("alice")
    listener = await ws_client(alice)
    sender = await ws_client(boss)
    reply = await sender.request("system.announcement.send", {"text": "Restarting at noon"})
    assert reply == {"id": reply["id"], "ok": True, "result": {"sent": True}, "time": reply["time"]}
    event = await listener.event("system.announcement.created")
    assert event["payload"] == {"text": "Restarting at noon"}


async def test_client_cannot_inject_channel_layer_types(alice, ws_client):
    """A frame naming a Channels handler never reaches it: names are looked up in the registry."""
    client = await ws_client(alice)
    reply = await client.request("websocket.disconnect")
    assert reply["error"]["code"] == "unknown_action"
    assert (await client.request("system.health.ping"))["ok"] is True


async def test_a_user_holds_at_most_ws_max_connections_per_user(alice, make_user, ws_client, settings):
    settings.WS_MAX_CONNECTIONS_PER_USER = 2
    first = await ws_client(alice)
    await ws_client(alice)
    extra = await ws_client(alice, connect=False)
    connected, _ = await extra.communicator.connect()
    assert connected  # accepted, then closed with a code that says why
    assert await extra.communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4409}
    bob = await database_sync_to_async(make_user)("bob")
    await ws_client(bob)  # other users are not affected
    await first.close()
    again = await ws_client(alice)  # a closed connection frees its place at once
    assert again.welcome["payload"]["user"]["username"] == "alice"
