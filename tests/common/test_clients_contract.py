"""One contract suite for QueueClient and BroadcastClient, run against every backend.

Backends: the inline queue client; the channel queue client over the in-memory layer and
over Redis; the broadcast client over the in-memory layer and over Redis (pub/sub). The
Redis rows need ``REDIS_URL`` and skip, saying so, without it.
"""
from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter

from common.clients import BroadcastClient, ChannelQueueClient, InlineQueueClient, ReplyInbox, TemporaryInbox, send_reply
from common.envelope import BUS_EVENT, BUS_REQUEST
from common.errors import InvalidPayload, NotFound, Timeout
from common.messages import Context, Message
from common.registry import registry
from worker.consumers import WorkerConsumer
from tests.services import REDIS_URL, needs_redis
from worker.server import ResilientWorker


SERVER = Context(via="server")


def memory_layers() -> dict:
    return {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "worker": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }


def redis_layers() -> dict:
    prefix = f"contract-{uuid.uuid4().hex[:8]}"
    return {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix}},
        "worker": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix + ":w"}},
    }


@pytest.fixture(params=["memory", pytest.param("redis", marks=needs_redis)])
def transport(request, settings):
    settings.CHANNEL_LAYERS = memory_layers() if request.param == "memory" else redis_layers()
    return request.param


@pytest.fixture
def failing_action(monkeypatch):
    """A registered action whose handler fails with not_found (same process as the worker)."""
    base = registry.actions["system.health.ping"]

    def handler(message):
        raise NotFound("No such album 42.")

    monkeypatch.setitem(registry.actions, "test.contract.missing", dataclasses.replace(base, name="test.contract.missing", handler=handler))
    return "test.contract.missing"


@pytest.fixture(params=["inline", "channel-memory", pytest.param("channel-redis", marks=needs_redis)])
async def queue_client(request, settings):
    """Each QueueClient backend; the channel ones with a real worker server (as runworker runs it)."""
    if request.param == "inline":
        yield InlineQueueClient()
        return
    settings.CHANNEL_LAYERS = memory_layers() if request.param == "channel-memory" else redis_layers()
    server = ResilientWorker(
        application=ChannelNameRouter({"worker": WorkerConsumer.as_asgi()}),
        channels=["worker"],
        channel_layer=get_channel_layer("worker"),
    )
    task = asyncio.create_task(server.arun())
    yield ChannelQueueClient()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass


async def test_request_returns_the_handlers_result(queue_client):
    result = await queue_client.request(Message("system.health.ping", {}, SERVER), timeout=5)
    assert result["pong"] is True
    assert result["mode"] in ("inline", "queue")


async def test_handler_error_arrives_with_its_code(queue_client, failing_action):
    with pytest.raises(NotFound) as exc:
        await queue_client.request(Message(failing_action, {}, SERVER), timeout=5)
    assert exc.value.message == "No such album 42."


async def test_many_concurrent_requests_each_get_their_own_reply(queue_client):
    async with TemporaryInbox() as inbox:
        results = await asyncio.gather(
            *(queue_client.request(Message("system.health.ping", {}, SERVER.replace(trace_id=str(i))), inbox=inbox, timeout=10) for i in range(40))
        )
    assert len(results) == 40 and all(r["pong"] for r in results)


async def test_channel_request_without_a_worker_times_out(transport):
    client = ChannelQueueClient()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Timeout) as exc:
        await client.request(Message("system.health.ping", {}, SERVER), timeout=0.5)
    elapsed = loop.time() - started
    assert exc.value.code == "timeout"
    assert 0.4 < elapsed < 3


async def test_broadcast_reaches_every_group_member(transport):
    layer = get_channel_layer()
    first, second, outsider = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("contract.group", first)
    await layer.group_add("contract.group", second)
    await BroadcastClient().broadcast("contract.group", "system.announcement.created", {"text": "hello"})
    for channel in (first, second):
        message = await asyncio.wait_for(layer.receive(channel), 5)
        assert message == {"type": BUS_EVENT, "event": "system.announcement.created", "payload": {"text": "hello"}}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(outsider), 0.3)


async def test_broadcast_refuses_undeclared_or_malformed_events(transport):
    client = BroadcastClient()
    with pytest.raises(LookupError):
        await client.broadcast("contract.group", "system.nothing.declared", {})
    with pytest.raises(InvalidPayload):
        await client.broadcast("contract.group", "system.announcement.created", {"text": 3})


async def test_request_to_a_named_channel_gets_its_reply(transport):
    layer = get_channel_layer()
    responder_channel = await layer.new_channel()

    async def responder():
        request = await layer.receive(responder_channel)
        assert request["type"] == BUS_REQUEST
        message = Message.from_wire(request["message"])
        await send_reply(request["reply_to"], request["correlation"], {"ok": True, "result": {"echo": message.payload}})

    task = asyncio.create_task(responder())
    result = await BroadcastClient().request(responder_channel, Message("system.health.ping", {"n": 1}, SERVER), timeout=5)
    await task
    assert result == {"echo": {"n": 1}}


async def test_late_and_stray_replies_are_dropped():
    loop = asyncio.get_running_loop()
    inbox = ReplyInbox("nowhere")
    correlation, future = inbox.expect()
    inbox.deliver({"correlation": "someone-else", "ok": True, "result": 1})
    assert not future.done()
    inbox.forget(correlation)
    inbox.deliver({"correlation": correlation, "ok": True, "result": 2})
    assert not future.done()
    assert loop.is_running()
