"""Scaled-mode benchmarks: WebSocket fan-out (``manage.py bench fanout``) and RPC (``bench rpc``).

Both start a throwaway scaled deployment (a fresh PostgreSQL database from ``--postgres``
/ ``DATABASE_URL``, its own Redis key prefix on ``--redis`` / ``REDIS_URL``) with
``--bridges`` daphne processes and ``--workers`` runworker processes, and measure a
baseline in the same run.

``fanout``: ``--clients`` real WebSocket clients (a minimal RFC 6455 client, so that
1,000 of them do not eat the CPU the servers need), spread over the bridges and over
``--client-processes`` processes, subscribe to one device player. Two runs:

- steady, end to end: a sender dispatches ``player.volume.set`` over WebSocket at
  ``--rate`` a second for ``--seconds`` (bridge -> worker -> PostgreSQL -> Redis ->
  bridges -> clients). Printed: events delivered per second, the share delivered,
  latency from sending the request to the event at the client (p50, p99, max), and the
  requests' own round trips;
- steady, fan-out only: the same number of ``tracker.action.applied`` events at the same
  rate, published straight to the tracker's group (what the store does after a commit):
  the part of the latency the bridges and clients add;
- saturation: ``--burst`` events published to the tracker's group at once, so that the
  fan-out capacity is measured rather than the rate of commits to one tracker.

The ceiling, measured right after each run: a bare ``RedisPubSubChannelLayer.group_send``
of messages of the same size, at the same rate, to as many receivers (channels of the
layer, in the same client processes): no Django, daphne, WebSocket or JSON in the way.

``rpc``: ``--connections`` WebSocket clients send ``system.health.ping`` back to back for
``--seconds`` through one bridge to the workers: requests per second and latency. The
baseline: the same number of concurrent callers making bare channel-layer round trips
(a ``send`` on the core layer's worker channel, answered by as many bare responder
processes as there are workers, the reply on the pub/sub layer), no bridge, router or
Django handler.
"""
from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import resource
import statistics
import time
import uuid

from devtools.deploy import postgres_deployment
from devtools.stats import percentile
from devtools.wsclient import call, connect, frame


def add_arguments(parser) -> None:
    which = parser.prog.split()[-1]
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL (default: DATABASE_URL)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", ""), help="Redis URL (default: REDIS_URL)")
    parser.add_argument("--bridges", type=int, default=2 if which == "fanout" else 1, help="daphne processes")
    parser.add_argument("--workers", type=int, default=2, help="runworker processes (default 2)")
    if which == "fanout":
        parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients (default 1000)")
        parser.add_argument("--client-processes", type=int, default=0, help="processes driving the clients (default: 1 per 250)")
        parser.add_argument("--rate", type=float, default=20.0, help="actions per second in the steady run (default 20)")
        parser.add_argument("--seconds", type=float, default=10.0, help="length of the steady run (default 10)")
        parser.add_argument("--burst", type=int, default=300, help="events published at once in the saturation run (default 300)")
    else:
        parser.add_argument("--connections", type=int, default=32, help="concurrent callers (default 32)")
        parser.add_argument("--seconds", type=float, default=10.0, help="length of each run (default 10)")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the deployment ---------------------------------------------------------------------------


def deploy(options: dict, out):
    postgres, redis = options["postgres"], options["redis"]
    if not (postgres.startswith(("postgres://", "postgresql://")) and redis):
        out.write("This benchmark needs the scaled mode: give --postgres and --redis (or DATABASE_URL and REDIS_URL).\n")
        return None
    deployment = postgres_deployment(postgres, redis)
    bridges, workers = options["bridges"], options["workers"]
    deployment.label = (f"PostgreSQL + Redis, {bridges} bridge{'s' if bridges != 1 else ''}, "
                        f"{workers} worker{'s' if workers != 1 else ''}")
    deployment.env.update(WS_MAX_FRAME_BYTES=str(1 << 20), PRESENCE_REFRESH="30")
    return deployment


def make_tracks(deployment, count: int) -> list[int]:
    """The ids of ``count`` generated tracks (queues take only tracks that exist)."""
    code = ("import json; from devtools.bench.api import build; from library.models import Track;"
            f"build({count}, 1); print('TRACKS=' + json.dumps(list(Track.objects.order_by('id').values_list('id', flat=True))))")
    output = deployment.manage("shell", "-c", code)
    return json.loads(next(line[7:] for line in output.splitlines() if line.startswith("TRACKS=")))


def make_token(deployment) -> str:
    code = ("from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "u = get_user_model().objects.create_user('bench-' + __import__('uuid').uuid4().hex[:6]);"
            "print('TOKEN=' + Token.objects.create(user=u).key)")
    return next(line[6:] for line in deployment.manage("shell", "-c", code).splitlines() if line.startswith("TOKEN="))


# -- client processes -------------------------------------------------------------------------


def _client_process(conn, urls: list[str], token: str, tracker: str, count: int, offset: int) -> None:
    """Connect ``count`` clients, subscribe them, then record (version, arrival) per event until told to stop."""
    raise_fd_limit()
    asyncio.run(_clients_main(conn, urls, token, tracker, count, offset))


class _Client(asyncio.Protocol):
    """A minimal RFC 6455 client: a real handshake and real frames, a fraction of the CPU of a
    general-purpose library, so that 1,000 of them do not starve the servers of the 2 CPUs
    they share. Records (version, arrival) of the tracker's events; answers pings."""

    def __init__(self, host: str, path: str, token: str, marker: bytes) -> None:
        self.host, self.path, self.token, self.marker = host, path, token, marker
        self.buffer = bytearray()
        self.upgraded = False
        self.opened = asyncio.get_running_loop().create_future()
        self.replies: dict[int, asyncio.Future] = {}
        self.arrivals: list[tuple[int, float]] = []
        self.notices = 0
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                         f"Authorization: Token {self.token}\r\n\r\n").encode())

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buffer[:end]).decode("latin1")))
                return
            del buffer[:end + 4]
            self.upgraded = True
        while len(buffer) >= 2:
            opcode, length, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, at = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, at = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < at + length:
                return
            payload = bytes(buffer[at:at + length])
            del buffer[:at + length]
            if opcode == 0x1:
                self.on_text(payload)
            elif opcode == 0x9:
                self.send(0xA, payload)

    def on_text(self, payload: bytes) -> None:
        if payload.startswith(b'{"event":"tracker.action.applied"') and self.marker in payload:
            at = payload.find(b'"version":') + 10
            self.arrivals.append((int(payload[at:payload.find(b",", at)]), time.monotonic()))
        elif not self.opened.done():
            self.opened.set_result(None)  # the welcome
        elif payload.startswith(b'{"id":'):
            frame = json.loads(payload)
            future = self.replies.pop(frame.get("id"), None)
            if future is not None:
                future.set_result(frame)
        elif b"resync_required" in payload:
            self.notices += 1

    def send(self, opcode: int, payload: bytes) -> None:
        self.transport.write(frame(opcode, payload))

    async def request(self, request_id: int, action: str, payload: dict) -> dict:
        future = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        self.send(0x1, json.dumps({"id": request_id, "action": action, "payload": payload}).encode())
        return await asyncio.wait_for(future, 60)


async def _clients_main(conn, urls, token, tracker, count, offset) -> None:
    from urllib.parse import urlsplit

    loop = asyncio.get_running_loop()
    marker = f'"tracker":"{tracker}"'.encode()
    clients = []
    for i in range(count):
        parts = urlsplit(urls[(offset + i) % len(urls)])
        for attempt in range(5):
            try:
                _, client = await loop.create_connection(lambda: _Client(parts.netloc, parts.path, token, marker),
                                                         parts.hostname, parts.port)
                await asyncio.wait_for(client.opened, 30)
                break
            except Exception:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)
        reply = await client.request(1, "tracker.subscribe", {"tracker": tracker})
        assert reply.get("ok"), reply
        clients.append(client)
    conn.send("ready")
    await loop.run_in_executor(None, conn.recv)  # "stop"
    for client in clients:
        client.transport.close()
    conn.send({"arrivals": [c.arrivals for c in clients], "notices": sum(c.notices for c in clients)})


def _bare_process(conn, redis_url: str, prefix: str, group: str, count: int) -> None:
    """``count`` bare pub/sub layer channels in ``group``, recording (n, arrival) per message."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    async def main():
        layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
        channels = [await layer.new_channel() for _ in range(count)]
        for channel in channels:
            await layer.group_add(group, channel)
        arrivals: list[list] = [[] for _ in channels]

        async def read(index, channel):
            clock = time.monotonic
            record = arrivals[index].append
            while True:
                message = await layer.receive(channel)
                record((message["n"], clock()))

        readers = [asyncio.create_task(read(i, c)) for i, c in enumerate(channels)]
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        conn.send({"arrivals": arrivals, "notices": 0})

    raise_fd_limit()
    asyncio.run(main())


class Receivers:
    """Client processes holding ``total`` receivers; collect their arrivals at the end."""

    def __init__(self, target, processes: int, total: int, args_for) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes, self.procs = [], []
        share, extra = divmod(total, processes)
        offset = 0
        for p in range(processes):
            count = share + (1 if p < extra else 0)
            parent, child = context.Pipe()
            proc = context.Process(target=target, args=(child, *args_for(count, offset)), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
            offset += count
        for pipe in self.pipes:
            if not pipe.poll(600):
                raise RuntimeError("a client process did not get ready")
            assert pipe.recv() == "ready"

    def collect(self) -> tuple[list[list], int]:
        for pipe in self.pipes:
            pipe.send("stop")
        arrivals, notices = [], 0
        for pipe in self.pipes:
            result = pipe.recv()
            arrivals.extend(result["arrivals"])
            notices += result["notices"]
        for proc in self.procs:
            proc.join(30)
        return arrivals, notices


def summarize(label: str, sent: dict[int, float], arrivals: list[list], receivers: int, notices: int = 0) -> dict:
    latencies, last = [], 0.0
    delivered = 0
    for per_client in arrivals:
        for key, at in per_client:
            started = sent.get(key)
            if started is not None:
                delivered += 1
                latencies.append((at - started) * 1000)
                last = max(last, at)
    first = min(sent.values()) if sent else 0.0
    span = max(1e-9, last - first)
    return {
        "label": label, "expected": len(sent) * receivers, "delivered": delivered, "rate": delivered / span,
        "p50": statistics.median(latencies) if latencies else float("nan"), "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"), "notices": notices, "span": span,
    }


def show(out, result: dict) -> None:
    share = result["delivered"] / max(1, result["expected"])
    out.write(f"  {result['label']:<44} delivered {result['delivered']:>8}/{result['expected']:<8} ({share:6.1%})  "
              f"{result['rate']:>9.0f} events/s   latency p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms  "
              f"max {result['max']:7.1f} ms" + (f"  resync notices {result['notices']}" if result["notices"] else "") + "\n")


# -- fanout -------------------------------------------------------------------------------------


async def _open_sender(url: str, token: str):
    return (await connect(url, token, max_queue=None, compression=None, max_size=None))[0]


async def _register(url: str, token: str, tracks: list[int]) -> tuple[str, int]:
    ws = await _open_sender(url, token)
    reply = await call(ws, 1, "player.device.register", {"name": f"bench-{uuid.uuid4().hex[:8]}"})
    # A long queue makes the state realistic; events carry only the changed volume.
    queued = await call(ws, 2, "player.queue.replace", {"tracks": tracks})
    await ws.close()
    return reply["result"]["tracker"], queued["result"]["version"] + 1


async def _send_actions(urls: list[str], token: str, tracker: str, count: int, rate: float | None,
                        senders: int) -> tuple[dict[int, float], dict[str, int]]:
    """Dispatch ``count`` actions from ``senders`` connections; {version: send time}, reply codes.

    ``rate``: a steady rate, round-robin over the connections, replies read as they come.
    ``None``: as fast as the bridges take them: each connection sends its next request when
    the previous one is answered (a connection runs its requests one at a time), so
    ``senders`` dispatches are in flight at once. Versions come from the replies.
    """
    sockets = [await _open_sender(urls[i % len(urls)], token) for i in range(senders)]
    sent: dict[int, float] = {}
    codes: dict[str, int] = {}
    sent_at: dict[int, float] = {}
    round_trips: list[float] = []

    def record(frame: dict) -> None:
        code = "ok" if frame.get("ok") else frame["error"]["code"]
        codes[code] = codes.get(code, 0) + 1
        round_trips.append((time.monotonic() - sent_at[frame["id"]]) * 1000)
        if frame.get("ok"):
            sent[frame["result"]["version"]] = sent_at[frame["id"]]

    if rate is not None:
        per_socket = [0] * senders

        async def read(ws, index):
            while per_socket[index] is not None:
                frame = json.loads(await ws.recv())
                if "id" in frame:
                    record(frame)
                    per_socket[index] -= 1

        readers = [asyncio.create_task(read(ws, i)) for i, ws in enumerate(sockets)]
        started = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            sent_at[i] = time.monotonic()
            per_socket[i % senders] += 1
            await sockets[i % senders].send(json.dumps({"id": i, "action": "player.volume.set",
                                                        "payload": {"tracker": tracker, "volume": i % 101}}))
        deadline = time.monotonic() + 60
        while sum(codes.values()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in readers:
            task.cancel()
    else:
        queue = list(range(count))

        async def run(ws):
            while queue:
                i = queue.pop()
                sent_at[i] = time.monotonic()
                record(await call(ws, i, "player.volume.set", {"tracker": tracker, "volume": i % 101}))

        await asyncio.gather(*(run(ws) for ws in sockets))
    for ws in sockets:
        await ws.close()
    codes["round_trip_p50_ms"] = round(statistics.median(round_trips), 1) if round_trips else None
    codes["round_trip_p99_ms"] = round(percentile(round_trips, 99), 1) if round_trips else None
    return sent, codes


async def _drain_replies(ws, count: int) -> None:
    got = 0
    while got < count:
        frame = json.loads(await ws.recv())
        if "id" in frame:
            got += 1


def run_fanout(options: dict, out) -> None:
    limit = raise_fd_limit()
    deployment = deploy(options, out)
    if deployment is None:
        return
    clients = options["clients"]
    processes = options["client_processes"] or max(1, min(8, (clients + 249) // 250))
    try:
        deployment.manage("migrate", "--noinput")
        token = make_token(deployment)
        tracks = make_tracks(deployment, 200)
        ports = deployment.start_servers(options["bridges"], options["workers"], timeout=60)
        urls = [f"ws://127.0.0.1:{port}/ws/" for port in ports]
        out.write(f"\n== fan-out: {deployment.label}; {clients} clients in {processes} client processes "
                  f"(fd limit {limit}); {os.cpu_count()} CPUs shared by servers, clients and Redis\n")
        tracker, _version = asyncio.run(_register(urls[0], token, tracks))
        redis_url = deployment.env["REDIS_URL"]
        prefix = deployment.env["CHANNELS_PREFIX"] + ":bare"
        count = int(options["rate"] * options["seconds"])
        payload_size = len(json.dumps({"event": "tracker.action.applied", "payload": {
            "tracker": tracker, "version": 10, "action": "player.volume.set", "payload": {"volume": 10},
            "changes": {"volume": 10}}}))

        # 1. Steady, end to end: WebSocket request -> bridge -> worker -> PostgreSQL -> Redis -> bridges -> clients.
        # 2. Saturation of the fan-out itself: events published to the tracker's group as fast as
        #    possible (what the store's publish does after a commit), so that the rate of
        #    dispatches to one tracker (a row lock and a commit each) is not what is measured.
        next_version = 10_000_000
        for mode in ("steady", "steady-fanout", "saturation"):
            actions = options["burst"] if mode == "saturation" else count
            rate = None if mode == "saturation" else options["rate"]
            if mode == "steady":
                out.write(f"steady, end to end: {actions} player.volume.set sent over WebSocket at {rate:g}/s\n")
            elif mode == "steady-fanout":
                out.write(f"steady, fan-out only: {actions} tracker.action.applied events published to the tracker's group "
                          f"at {rate:g}/s (no request, worker or commit)\n")
            else:
                out.write(f"saturation: {actions} tracker.action.applied events published to the tracker's group at once\n")
            receivers = Receivers(_client_process, processes, clients, lambda n, off: (urls, token, tracker, n, off))
            codes = None
            if mode == "steady":
                sent, codes = asyncio.run(_send_actions(urls, token, tracker, actions, rate, senders=4))
            else:
                sent = asyncio.run(_inject(redis_url, deployment.env["CHANNELS_PREFIX"], tracker, next_version, actions, rate))
                next_version += actions
            time.sleep(min(30.0, 3.0 + actions * clients / 50_000))
            arrivals, notices = receivers.collect()
            served = summarize("through the bridges (WebSocket clients)", sent, arrivals, clients, notices)
            show(out, served)
            if codes is not None:
                out.write(f"  (the sender's requests: {codes})\n")
            if mode == "steady-fanout":
                continue  # same rate and size as the steady run's ceiling, shown above
            # The ceiling: bare group_send to as many layer channels.
            group = f"bare-{uuid.uuid4().hex[:6]}"
            bare = Receivers(_bare_process, processes, clients, lambda n, off: (redis_url, prefix, group, n))
            bare_sent = asyncio.run(_bare_send(redis_url, prefix, group, actions, rate, payload_size))
            time.sleep(min(30.0, 3.0 + actions * clients / 100_000))
            bare_arrivals, _ = bare.collect()
            ceiling = summarize("bare RedisPubSubChannelLayer.group_send", bare_sent, bare_arrivals, clients)
            show(out, ceiling)
            out.write(f"  delivery rate: {served['rate'] / ceiling['rate']:.2f} of the bare layer's\n")
    finally:
        deployment.close()


async def _inject(redis_url: str, prefix: str, tracker: str, first_version: int, count: int,
                  rate: float | None = None) -> dict[int, float]:
    """Publish ``count`` tracker events to the tracker's group as the store does after a commit."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
    sent: dict[int, float] = {}
    started = time.monotonic()
    for i in range(count):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        version = first_version + i
        sent[version] = time.monotonic()
        await layer.group_send(f"tracker.{tracker}", {"type": "bus.event", "event": "tracker.action.applied", "payload": {
            "tracker": tracker, "version": version, "action": "player.volume.set", "payload": {"volume": i % 101},
            "changes": {"volume": i % 101}}})
    await layer.flush()
    return sent


async def _bare_send(redis_url: str, prefix: str, group: str, count: int, rate: float | None, size: int) -> dict[int, float]:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
    filler = "x" * max(0, size - 60)
    sent: dict[int, float] = {}
    started = time.monotonic()
    for n in range(count):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        sent[n] = time.monotonic()
        await layer.group_send(group, {"type": "bench.event", "n": n, "filler": filler})
    await layer.flush()
    return sent


# -- rpc ----------------------------------------------------------------------------------------


async def _rpc_through_bridge(url: str, token: str, connections: int, seconds: float) -> tuple[int, list[float], dict]:
    sockets = [await _open_sender(url, token) for _ in range(connections)]
    latencies: list[float] = []
    codes: dict[str, int] = {}
    end = time.monotonic() + seconds

    async def run(ws):
        i = 0
        while time.monotonic() < end:
            i += 1
            started = time.monotonic()
            reply = await call(ws, i, "system.health.ping", {})
            latencies.append((time.monotonic() - started) * 1000)
            code = "ok" if reply.get("ok") else reply["error"]["code"]
            codes[code] = codes.get(code, 0) + 1

    started = time.monotonic()
    await asyncio.gather(*(run(ws) for ws in sockets))
    elapsed = time.monotonic() - started
    for ws in sockets:
        await ws.close()
    return int(len(latencies) / elapsed), latencies, codes


def _bare_responder(conn, redis_url: str, prefix: str, channel: str) -> None:
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    async def main():
        core = RedisChannelLayer(hosts=[redis_url], prefix=prefix + ":w")
        replies = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
        conn.send("ready")
        while True:
            message = await core.receive(channel)
            await replies.send(message["reply_to"], {"type": "bus.reply", "correlation": message["correlation"], "ok": True,
                                                     "result": {"pong": True}})

    asyncio.run(main())


async def _rpc_bare(redis_url: str, prefix: str, channel: str, connections: int, seconds: float) -> tuple[int, list[float]]:
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    core = RedisChannelLayer(hosts=[redis_url], prefix=prefix + ":w", capacity=10_000)
    replies = RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix)
    latencies: list[float] = []
    end = time.monotonic() + seconds

    async def run():
        inbox = await replies.new_channel("rpc.")
        while time.monotonic() < end:
            correlation = uuid.uuid4().hex
            started = time.monotonic()
            await core.send(channel, {"type": "bus.request", "correlation": correlation, "reply_to": inbox,
                                      "message": {"action": "system.health.ping", "payload": {}}})
            while (await replies.receive(inbox)).get("correlation") != correlation:
                pass
            latencies.append((time.monotonic() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(run() for _ in range(connections)))
    elapsed = time.monotonic() - started
    await replies.flush()
    return int(len(latencies) / elapsed), latencies


def run_rpc(options: dict, out) -> None:
    raise_fd_limit()
    deployment = deploy(options, out)
    if deployment is None:
        return
    try:
        deployment.manage("migrate", "--noinput")
        token = make_token(deployment)
        ports = deployment.start_servers(options["bridges"], options["workers"], timeout=60)
        url = f"ws://127.0.0.1:{ports[0]}/ws/"
        connections, seconds = options["connections"], options["seconds"]
        out.write(f"\n== rpc: {deployment.label}; {connections} concurrent callers, {seconds:g} s each; "
                  f"{os.cpu_count()} CPUs\n")
        asyncio.run(_rpc_through_bridge(url, token, 4, 1.0))  # warm up
        rate, latencies, codes = asyncio.run(_rpc_through_bridge(url, token, connections, seconds))
        out.write(f"  through a bridge to the workers (WebSocket system.health.ping): {rate:7d} req/s   "
                  f"p50 {statistics.median(latencies):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms   replies {codes}\n")
        # The baseline: bare round trips, as many responders as workers, no Django.
        for process in deployment.processes.values():
            process.terminate()
        for process in deployment.processes.values():
            process.wait(10)
        deployment.processes.clear()
        redis_url = deployment.env["REDIS_URL"]
        prefix = deployment.env["CHANNELS_PREFIX"] + ":bare"
        context = multiprocessing.get_context("fork")
        responders = []
        for _ in range(options["workers"]):
            parent, child = context.Pipe()
            proc = context.Process(target=_bare_responder, args=(child, redis_url, prefix, "benchrpc"), daemon=True)
            proc.start()
            parent.recv()
            responders.append(proc)
        try:
            asyncio.run(_rpc_bare(redis_url, prefix, "benchrpc", 4, 1.0))
            bare_rate, bare_latencies = asyncio.run(_rpc_bare(redis_url, prefix, "benchrpc", connections, seconds))
        finally:
            for proc in responders:
                proc.terminate()
                proc.join(5)
        out.write(f"  bare channel-layer round trip (core send, pub/sub reply):        {bare_rate:7d} req/s   "
                  f"p50 {statistics.median(bare_latencies):6.1f} ms  p99 {percentile(bare_latencies, 99):6.1f} ms\n")
        out.write(f"  ratio: {rate / max(1, bare_rate):.2f} of the bare round trip\n")
    finally:
        deployment.close()


def run(options: dict, out) -> None:
    if options["benchmark"] == "fanout":
        run_fanout(options, out)
    else:
        run_rpc(options, out)
