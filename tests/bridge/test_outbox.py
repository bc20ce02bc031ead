"""The outbox against a fake transport: writes while the transport holds less than the
high water mark, queues above it (in order, until it drains below the low one), drops
events past WS_MAX_PENDING_EVENTS and asks for one resync, closes 4408 when replies pile
up. And the transport probe: internals that are not what it expects switch direct writes
and the backlog reading off, loudly."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bridge.ws import transport
from bridge.ws.outbox import HIGH_WATER_BYTES, LOW_WATER_BYTES, Outbox
from bridge.ws.transport import INTERNALS, ws_text_frame


class FakeTransport:
    """Twisted's TCP transport as far as the outbox reads it: ``pending`` bytes unsent."""

    def __init__(self) -> None:
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


class FakeProtocol:
    """autobahn's server protocol as far as direct writes read it: open, plain, idle."""

    STATE_OPEN = 3
    state = 3
    _perMessageCompress = None
    maxMessagePayloadSize = 0

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.send_queue: list = []


@pytest.fixture
def live(monkeypatch):
    monkeypatch.setattr(INTERNALS, "backlog", True)
    monkeypatch.setattr(INTERNALS, "direct_writes", True)


class Client:
    def __init__(self, max_pending_events: int = 3) -> None:
        self.protocol = FakeProtocol()
        self.sent: list[str] = []
        self.closed_with: list[int] = []
        self.outbox = Outbox(self.send, self.protocol, self.close, max_pending_events)

    async def send(self, message: dict) -> None:
        assert message["type"] == "websocket.send"
        self.sent.append(message["text"])

    async def close(self, code: int) -> None:
        self.closed_with.append(code)

    def backlog(self, size: int) -> None:
        self.protocol.transport._tempDataLen = size

    async def drained(self) -> None:
        self.backlog(0)
        for _ in range(100):
            if not self.outbox.waiting:
                break
            await asyncio.sleep(0.02)


async def test_below_the_high_water_mark_frames_are_written_at_once(live):
    client = Client()
    client.backlog(HIGH_WATER_BYTES)
    await client.outbox.put("reply")
    frame = ws_text_frame(b"event")
    await client.outbox.put("event", droppable=True, frame=frame)
    assert client.sent == ["reply"]  # no ready frame: daphne's send
    assert client.protocol.transport.written == [frame]  # a ready frame: straight to the transport
    assert not client.outbox.waiting


async def test_above_the_high_water_mark_frames_wait_in_order_until_below_the_low_one(live):
    client = Client(max_pending_events=10)
    client.backlog(HIGH_WATER_BYTES + 1)
    for text in ("e1", "r1", "e2"):
        await client.outbox.put(text, droppable=text.startswith("e"), frame=ws_text_frame(text.encode()))
    await asyncio.sleep(0.02)  # the writer sees the congestion
    assert client.sent == [] and client.protocol.transport.written == []
    client.backlog(LOW_WATER_BYTES + 1)  # draining, not yet below the low water mark
    await asyncio.sleep(0.05)
    assert client.sent == []
    await client.drained()
    assert client.sent == ["e1", "r1", "e2"]  # queued frames go through daphne's send
    assert client.closed_with == []


async def test_events_past_the_limit_are_dropped_and_one_resync_is_asked(live):
    client = Client(max_pending_events=3)
    client.backlog(10**9)
    await client.outbox.put("r1")
    for n in range(8):
        await client.outbox.put(f"e{n}", droppable=True)
    await client.outbox.put("r2")
    await client.drained()
    resync = [json.loads(text) for text in client.sent if text.startswith("{")]
    assert all(isinstance(frame.pop("time"), int) for frame in resync)
    assert resync == [{"event": "system.session.resync_required", "payload": {"reason": "slow_client", "dropped": 8}}]
    assert client.sent[0] == "r1" and client.sent[-1] == "r2"  # replies are never dropped
    assert not any(text.startswith("e") for text in client.sent)
    await client.outbox.put("e9", droppable=True)  # events flow again
    assert client.sent[-1] == "e9"


async def test_replies_piling_up_close_the_connection_4408(live):
    client = Client(max_pending_events=3)
    client.backlog(10**9)
    for n in range(4):
        await client.outbox.put(f"r{n}")
    assert client.closed_with == [4408]
    assert client.outbox.closed and not client.outbox.waiting
    await client.drained()
    assert client.sent == []


async def test_without_a_protocol_every_frame_goes_through_the_public_send():
    client = Client()
    client.outbox.protocol = None
    await client.outbox.put("event", droppable=True, frame=ws_text_frame(b"event"))
    assert client.sent == ["event"]


@pytest.fixture
def unprobed(monkeypatch):
    monkeypatch.setattr(INTERNALS, "backlog", None)
    monkeypatch.setattr(INTERNALS, "direct_writes", None)


def test_unexpected_internals_are_reported_and_switch_direct_writes_and_backlog_off(unprobed, caplog):
    class StrangeTransport:  # a Twisted that renamed its buffer fields
        def write(self, data):
            pass

    class StrangeProtocol:
        transport = StrangeTransport()

    caplog.set_level(logging.WARNING, logger="bridge.ws.transport")
    transport.probe(StrangeProtocol(), websocket=True)
    assert INTERNALS.backlog is False and INTERNALS.direct_writes is False
    assert "dataBuffer" in caplog.text and "_tempDataLen" in caplog.text
    protocol = FakeProtocol()
    assert transport.transport_backlog(protocol) is None
    assert transport.can_write_directly(protocol, 10) is False


def test_an_unexpected_websocket_protocol_switches_direct_writes_off_only(unprobed, caplog):
    class OldAutobahn:  # send_queue and _perMessageCompress gone
        STATE_OPEN = 3
        state = 3
        maxMessagePayloadSize = 0
        transport = FakeTransport()
        transport.socket = None
        transport.connected = True
        transport.disconnecting = False

    caplog.set_level(logging.WARNING, logger="bridge.ws.transport")
    transport.probe(OldAutobahn(), websocket=True)
    assert INTERNALS.backlog is True and INTERNALS.direct_writes is False
    assert "send_queue" in caplog.text and "_perMessageCompress" in caplog.text


def test_a_backlog_read_that_fails_never_raises(live):
    class Broken:
        transport = FakeTransport()
        transport._tempDataLen = None  # None + int: TypeError

    assert transport.transport_backlog(Broken()) is None
