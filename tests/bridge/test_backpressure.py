"""Backpressure: a slow client cannot make a bridge buffer without bound.

In process (the real ASGI app, a simulated congested transport): events beyond
``WS_MAX_PENDING_EVENTS`` are dropped and replaced by one ``system.session.resync_required``;
replies are never dropped, and a client that lets too many of them wait is closed with 4408;
a full channel (``ChannelFull``) is answered ``unavailable``, counted and logged; a failing
channel-layer receive does not kill the connection.

Against a real daphne: a client that stops reading while big events pour in leaves the
server's memory flat, gets the resync notice when it reads again, and nobody else notices.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from channels.layers import get_channel_layer

from bridge import ws
from bridge.ws.consumer import BusConsumer
from bridge.ws.fanout import GROUPS, Group
from bridge.ws.outbox import Outbox, frame_text
from bridge.ws.transport import ws_text_frame
from common import clients, groups
from devtools.bench.fanout import make_tracks
from devtools.deploy import EmbeddedServer
from devtools.wsclient import RawWebSocket, WsClient


@pytest.fixture
def slow(monkeypatch):
    """Connection ids whose transport claims a huge unsent backlog."""
    congested: set[str] = set()
    outboxes: dict[str, Outbox] = {}
    real_connect, real_backlog = BusConsumer.connect, Outbox.backlog

    async def connect(self):
        await real_connect(self)
        if self.ready:
            outboxes[self.connection_id] = self.outbox

    def backlog(self):
        if any(outboxes.get(connection) is self for connection in congested):
            return 10**9
        return real_backlog(self)

    monkeypatch.setattr(BusConsumer, "connect", connect)
    monkeypatch.setattr(Outbox, "backlog", backlog)
    return congested


@pytest.mark.django_db(transaction=True)
async def test_events_beyond_the_limit_are_dropped_and_one_resync_notice_follows(make_user, ws_client, settings, slow):
    settings.WS_MAX_PENDING_EVENTS = 5
    alice = await asyncio.to_thread(make_user, "alice")
    reader = await ws_client(alice)
    controller = await ws_client(alice)
    tracker = (await reader.request("player.device.register", {"name": "slowpoke"}))["result"]["tracker"]
    await reader.event("player.device.presence", online=True)
    slow.add(reader.welcome["payload"]["connection"])
    dropped_before = ws.STATS["events_dropped"]
    for volume in range(12):
        assert (await controller.request("player.volume.set", {"tracker": tracker, "volume": volume}))["ok"]
    await reader.send_raw(json.dumps({"id": "still-answered", "action": "system.health.ping"}))
    assert await reader.communicator.receive_nothing(timeout=0.5)  # nothing gets through a congested transport
    slow.clear()
    notice = await reader.receive(timeout=3)
    assert isinstance(notice.pop("time"), int)
    assert notice == {"event": "system.session.resync_required", "payload": {"reason": "slow_client", "dropped": 12}}
    assert (await reader.reply_to("still-answered", timeout=3))["ok"] is True  # replies are never dropped
    assert ws.STATS["events_dropped"] - dropped_before == 12
    # It resyncs by version and events flow again.
    resync = (await reader.request("tracker.subscribe", {"tracker": tracker, "since_version": 1}))["result"]
    assert [a["version"] for a in resync["actions"]] == list(range(2, 14))
    assert (await controller.request("player.volume.set", {"tracker": tracker, "volume": 99}))["ok"]
    event = await reader.event("tracker.action.applied", timeout=3)
    assert event["payload"]["version"] == 14


@pytest.mark.django_db(transaction=True)
async def test_events_under_the_limit_wait_and_arrive_in_order(make_user, ws_client, settings, slow):
    settings.WS_MAX_PENDING_EVENTS = 50
    alice = await asyncio.to_thread(make_user, "alice")
    reader = await ws_client(alice)
    controller = await ws_client(alice)
    tracker = (await reader.request("player.device.register", {"name": "patient"}))["result"]["tracker"]
    await reader.event("player.device.presence", online=True)
    slow.add(reader.welcome["payload"]["connection"])
    for volume in range(10):
        assert (await controller.request("player.volume.set", {"tracker": tracker, "volume": volume}))["ok"]
    slow.clear()
    versions = [(await reader.event("tracker.action.applied", timeout=3))["payload"]["version"] for _ in range(10)]
    assert versions == list(range(2, 12))


@pytest.mark.django_db(transaction=True)
async def test_a_client_that_lets_replies_pile_up_is_closed_4408(make_user, ws_client, settings, slow):
    settings.WS_MAX_PENDING_EVENTS = 3
    alice = await asyncio.to_thread(make_user, "alice")
    client = await ws_client(alice)
    slow.add(client.welcome["payload"]["connection"])
    closed_before = ws.STATS["closed_slow"]
    for i in range(5):
        await client.send_raw(json.dumps({"id": i, "action": "system.health.ping"}))
    assert await client.communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4408}
    assert ws.STATS["closed_slow"] == closed_before + 1


@pytest.mark.django_db(transaction=True)
async def test_a_full_worker_channel_is_answered_unavailable_counted_and_logged(make_user, ws_client, settings, caplog):
    settings.WORKER_MODE = "queue"
    settings.RPC_TIMEOUT = 1.0
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "worker": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1}},
    }
    alice = await asyncio.to_thread(make_user, "alice")
    first, second = await ws_client(alice), await ws_client(alice)
    full_before = clients.BUS_STATS["channel_full"]
    caplog.set_level(logging.WARNING, logger="common.clients")
    await first.send_raw(json.dumps({"id": 1, "action": "system.health.ping"}))
    await asyncio.sleep(0.1)  # no worker runs: the request fills the channel
    reply = await second.request("system.health.ping")
    assert reply["ok"] is False and reply["error"]["code"] == "unavailable"
    assert (await first.reply_to(1, timeout=3))["error"]["code"] == "timeout"
    assert clients.BUS_STATS["channel_full"] == full_before + 1
    assert "is full" in caplog.text
    assert (await second.request("player.presence.list"))["ok"]  # the connection carries on (a bridge-side action)


@pytest.mark.django_db(transaction=True)
async def test_a_failing_channel_layer_receive_does_not_kill_the_connection(make_user, ws_client, monkeypatch):
    alice = await asyncio.to_thread(make_user, "alice")
    client = await ws_client(alice)
    layer = get_channel_layer()
    real_receive = layer.receive
    failures = {"left": 0}

    async def flaky_receive(channel):
        if failures["left"] and channel.startswith("group."):
            failures["left"] -= 1
            raise ConnectionError("bus restarting")
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", flaky_receive)
    failures["left"] = 3
    # A message completes the pending receive of the group's channel; the next three fail.
    await layer.group_send(groups.EVERYONE, {"type": "bus.event", "event": "system.announcement.created",
                                                        "payload": {"text": "before"}})
    assert (await client.event("system.announcement.created", timeout=3))["payload"]["text"] == "before"
    notice = await client.event("system.session.resync_required", timeout=5)
    assert notice["payload"] == {"reason": "bus_interrupted", "dropped": 0}
    assert failures["left"] == 0
    assert (await client.request("system.health.ping"))["ok"]
    await layer.group_send(groups.EVERYONE, {"type": "bus.event", "event": "system.announcement.created",
                                                        "payload": {"text": "after"}})
    assert (await client.event("system.announcement.created", timeout=3))["payload"]["text"] == "after"


@pytest.mark.django_db(transaction=True)
async def test_channel_messages_of_unexpected_types_are_dropped(make_user, ws_client):
    alice = await asyncio.to_thread(make_user, "alice")
    client = await ws_client(alice)
    layer = get_channel_layer()
    for message in ({"type": "websocket.close"}, {"type": "disconnect"}, {"type": "_private"}, {"no": "type"},
                    {"type": "bus.event"}):  # the last: a known type without its fields
        await layer.group_send(groups.EVERYONE, message)
    assert (await client.request("system.health.ping"))["ok"]


async def test_an_event_on_its_own_is_sent_at_once_and_a_burst_is_left_to_the_buffer():
    """Group events: one on its own goes straight to each socket (``send_now``); the ones
    that follow it within ``BURST_GAP`` go through Twisted's buffer, which sends what piles up
    for a connection in one call."""
    from common.envelope import BUS_EVENT

    entry = Group(asyncio.get_running_loop())
    sent: list[tuple[bytes, bool]] = []

    class Outbox:
        async def put(self, text, *, droppable, frame, send_now):
            sent.append((frame, send_now))

    class Member:
        ready = True
        outbox = Outbox()

    entry.members.add(Member())
    message = {"type": BUS_EVENT, "event": "tracker.action.applied", "payload": {"version": 1}}
    for _ in range(3):
        await GROUPS.deliver("g", entry, message)
    entry.last_event -= 1  # a second of quiet
    await GROUPS.deliver("g", entry, message)
    assert [now for _, now in sent] == [True, False, False, True]
    first = json.loads(sent[0][0][2:].decode())  # a short text frame: 2 header bytes
    assert sent[0][0] == ws_text_frame(frame_text(
        {"event": "tracker.action.applied", "payload": {"version": 1}, "time": first["time"]}).encode())


# -- a real daphne, a real slow socket ------------------------------------------------------

BIG = list(range(1, 9001))  # a queue whose events are ~100 KB each


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("backpressure"), WS_RATE_LIMIT="1000", WS_RATE_BURST="1000",
                            WS_MAX_PENDING_EVENTS="4", LOG_LEVEL="INFO")  # INFO: the transport probe's outcome
    server.start()
    assert make_tracks(server, len(BIG)) == BIG  # queues take only tracks that exist
    yield server
    server.stop()


async def test_daphnes_internals_are_as_expected_direct_writes_and_backlog_reading_live(server):
    """The installed daphne, autobahn and Twisted are what ``bridge.ws.transport`` was written
    against: its probe found them, so back-pressure reads the real backlog and group events
    take the direct path (an upgrade that changes them fails here, not silently)."""
    token = server.make_users("prober")["prober"]
    async with WsClient(server.ws_url, token) as client:
        assert (await client.request("system.health.ping"))["ok"]
    log = server.log()
    assert "daphne internals as expected: backlog reading live, direct writes live" in log
    assert "expects" not in log


async def test_a_client_that_stops_reading_costs_the_server_bounded_memory(server):
    token = server.make_users("hoarder")["hoarder"]
    stalled = await asyncio.to_thread(RawWebSocket, "127.0.0.1", server.port, headers={"Authorization": f"Token {token}"},
                                      rcvbuf=4096)
    try:
        await asyncio.to_thread(stalled.recv_json)  # welcome
        tracker = (await asyncio.to_thread(stalled.request, 1, "player.device.register", {"name": "stalled"}))["result"]["tracker"]
        async with WsClient(server.ws_url, token) as writer, WsClient(server.ws_url, token) as bystander:
            assert (await bystander.request("tracker.subscribe", {"tracker": tracker}))["ok"]
            sent = 120

            async def burst(count: int) -> list[dict]:
                watching = asyncio.create_task(watch(count))
                for i in range(count):
                    reply = await writer.request("player.queue.replace", {"tracker": tracker, "tracks": BIG[i % 5:]}, timeout=30)
                    assert reply["ok"], reply
                return await watching

            async def watch(count: int) -> list[dict]:
                return [await bystander.event("tracker.action.applied", timeout=30) for _ in range(count)]

            # Warm up: the same burst with nobody stalled, so the allocator has grown to its working size.
            await asyncio.to_thread(stalled.request, 2, "tracker.unsubscribe", {"tracker": tracker})
            await burst(40)
            await asyncio.to_thread(stalled.request, 3, "tracker.subscribe", {"tracker": tracker})
            rss_before = server.rss_kib()
            started = time.monotonic()
            seen = await burst(sent)
            elapsed = time.monotonic() - started
            rss_after = server.rss_kib()
            produced = sum(len(json.dumps(e)) for e in seen)
            # The bystander got every event, in order, while the other client stalled.
            versions = [e["payload"]["version"] for e in seen]
            assert versions == list(range(versions[0], versions[0] + sent))
            # Unbounded, the server would hold about all of it (~`produced` bytes) for the stalled client.
            growth_mib = (rss_after - rss_before) / 1024
            assert produced > 15 * 2**20
            assert growth_mib < produced / 2**20 / 4, (growth_mib, produced)
            # Reading again: the events that fit, then one notice, then events flow.
            frames = []
            while True:
                frame = await asyncio.to_thread(stalled.recv_json, 10)
                frames.append(frame)
                if frame.get("event") == "system.session.resync_required":
                    break
            delivered = [f for f in frames if f.get("event") == "tracker.action.applied"]
            notice = frames[-1]["payload"]
            assert notice["reason"] == "slow_client" and notice["dropped"] + len(delivered) == sent
            reply = await asyncio.to_thread(stalled.request, 4, "tracker.state.get", {"tracker": tracker})
            assert reply["ok"] and reply["result"]["version"] == versions[-1]
            print(f"\nstalled client: {produced / 2**20:.1f} MiB of events in {elapsed:.1f} s, "
                  f"server RSS +{growth_mib:.1f} MiB, {len(delivered)} delivered, {notice['dropped']} dropped")
    finally:
        stalled.close()
    assert server.alive()


async def test_a_reply_over_the_message_limit_becomes_too_large_and_the_connection_carries_on(server):
    token = server.make_users("historian")["historian"]
    async with WsClient(server.ws_url, token) as client:
        tracker = (await client.request("player.device.register", {"name": "long-history"}))["result"]["tracker"]
        for i in range(12):  # ~150 KB of changes each: the actions since version 1 exceed 1 MiB
            assert (await client.request("player.queue.replace", {"tracks": BIG[i % 5:]}, timeout=30))["ok"]
        reply = await client.request("tracker.subscribe", {"tracker": tracker, "since_version": 1}, timeout=30)
        assert reply["ok"] is False and reply["error"]["code"] == "too_large", reply
        snapshot = await client.request("tracker.state.get", {"tracker": tracker})
        assert snapshot["ok"] and snapshot["result"]["version"] == 13
