"""Tracker throughput and live latency (``manage.py bench trackers``).

For SQLite (embedded mode) and, when PostgreSQL and Redis are given, for PostgreSQL on
Redis (scaled mode), each on a fresh throwaway database, it prints:

- dispatches per second to one tracker and round-robin to 100 trackers, next to a
  baseline measured in the same run: the bare ORM writes a dispatch makes (row update and
  log insert in one transaction, no lock, reducer or broadcast);
- the latency from sending an action over a WebSocket to the ``tracker.action.applied``
  event arriving at 1, 10 and 100 subscribed real WebSocket clients (p50, p99), through
  a real daphne server (plus a ``runworker`` process in the scaled mode).
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid

from devtools import deploy, wsclient
from devtools.stats import percentile


def add_arguments(parser) -> None:
    parser.add_argument("--actions", type=int, default=1000, help="dispatches per throughput figure (default 1000)")
    parser.add_argument("--events", type=int, default=60, help="actions sent per latency figure (default 60)")
    parser.add_argument("--clients", default="1,10,100", help="subscriber counts (default 1,10,100)")
    parser.add_argument("--rate", type=float, default=20.0, help="actions per second in the latency runs (default 20)")
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL (default: DATABASE_URL)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", ""), help="Redis URL (default: REDIS_URL)")
    parser.add_argument("--measure-dispatch", action="store_true", help=argparse_suppress())


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


# -- in-process throughput (run in a child process on the database under test) ---------


def measure_dispatch(actions: int) -> dict:
    """Run the dispatch loops in a worker thread under an event loop, as handlers run in
    the bridge (inline) and in ``runworker``: broadcasts hop to the loop as in production."""
    from asgiref.sync import sync_to_async

    async def main():
        return await sync_to_async(_measure_dispatch, thread_sensitive=False)(actions)

    return asyncio.run(main())


def _measure_dispatch(actions: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tracker import store
    from tracker.models import Tracker, TrackerAction

    user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:6]}")
    one = store.get_or_create("player", owner=user, key="one")
    many = [store.get_or_create("player", owner=user, key=f"many-{i}") for i in range(100)]
    store.dispatch(one.pk, "player.queue.replace", {"tracks": list(range(1, 51))})

    def timed(fn) -> float:
        started = time.perf_counter()
        for i in range(actions):
            fn(i)
        return actions / (time.perf_counter() - started)

    def to_one(i):
        store.dispatch(one.pk, "player.volume.set" if i % 2 else "player.playback.next", {"volume": i % 101} if i % 2 else {})

    def to_many(i):
        store.dispatch(many[i % 100].pk, "player.volume.set", {"volume": i % 101})

    baseline_tracker = store.get_or_create("player", owner=user, key="baseline")

    def bare(i):
        with transaction.atomic():
            Tracker.objects.filter(pk=baseline_tracker.pk).update(state={"volume": i % 101}, version=i + 1)
            TrackerAction.objects.create(tracker_id=baseline_tracker.pk, version=i + 1, name="player.volume.set",
                                         payload={"volume": i % 101}, changes={"volume": i % 101}, at_ms=0)

    return {"bare": timed(bare), "one": timed(to_one), "many": timed(to_many)}


# -- WebSocket latency --------------------------------------------------------------------


async def measure_latency(port: int, token: str, clients: int, events: int, rate: float) -> dict:
    url = f"ws://127.0.0.1:{port}/ws/"

    async def connect():
        return (await wsclient.connect(url, token, max_queue=None))[0]

    sender = await connect()
    registered = (await wsclient.call(sender, 1, "player.device.register", {"name": f"bench-{uuid.uuid4().hex[:8]}"}))["result"]
    tracker, first_version = registered["tracker"], registered["version"] + 1
    receivers = [await connect() for _ in range(clients)]
    for index, ws in enumerate(receivers):
        await wsclient.call(ws, 1, "tracker.subscribe", {"tracker": tracker})
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    expected = events * clients

    async def receive(ws):
        got = 0
        while got < events:
            frame = json.loads(await ws.recv())
            if frame.get("event") == "tracker.action.applied" and frame["payload"]["tracker"] == tracker:
                arrived = time.perf_counter()
                version = frame["payload"]["version"]
                started = sent_at.get(version)
                if started is not None:
                    latencies.append((arrived - started) * 1000)
                got += 1

    listeners = [asyncio.create_task(receive(ws)) for ws in receivers]
    # Versions are known in advance: nobody else acts on this new device.
    for i in range(events):
        version = first_version + i
        sent_at[version] = time.perf_counter()
        await sender.send(json.dumps({"id": 100 + i, "action": "player.volume.set", "payload": {"volume": i % 101}}))
        await asyncio.sleep(1 / rate)
    try:
        await asyncio.wait_for(asyncio.gather(*listeners), timeout=60)
    except asyncio.TimeoutError:
        pass
    for ws in receivers + [sender]:
        await ws.close()
    return {
        "clients": clients,
        "delivered": len(latencies),
        "expected": expected,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
    }


# -- the command --------------------------------------------------------------------------


def run(options: dict, out) -> None:
    if options.get("measure_dispatch"):
        out.write(json.dumps(measure_dispatch(options["actions"])))
        return
    deployments = [deploy.sqlite_deployment]
    postgres, redis = options["postgres"], options["redis"]
    if postgres.startswith(("postgres://", "postgresql://")) and redis:
        deployments.append(lambda: deploy.postgres_deployment(postgres, redis))
    else:
        out.write("PostgreSQL: not measured (give --postgres and --redis, or DATABASE_URL and REDIS_URL)\n")
    counts = [int(c) for c in options["clients"].split(",") if c.strip()]
    for make in deployments:
        deployment = make()
        try:
            deployment.manage("migrate", "--noinput")
            rates = json.loads(deployment.manage("bench", "trackers", "--measure-dispatch", "--actions", str(options["actions"])))
            out.write(f"\n== {deployment.label}\n")
            out.write(f"dispatch, one tracker:      {rates['one']:8.0f}/s   ({rates['one'] / rates['bare']:.2f}x the bare ORM writes)\n")
            out.write(f"dispatch, 100 trackers:     {rates['many']:8.0f}/s   ({rates['many'] / rates['bare']:.2f}x)\n")
            out.write(f"baseline, bare ORM writes:  {rates['bare']:8.0f}/s\n")
            code = ("from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
                    "u = get_user_model().objects.create_user('bench-ws'); print('TOKEN=' + Token.objects.create(user=u).key)")
            token = next(line[6:] for line in deployment.manage("shell", "-c", code).splitlines() if line.startswith("TOKEN="))
            port = deployment.start_servers(bridges=1, workers=1 if "REDIS_URL" in deployment.env else 0)[0]
            out.write(f"latency, WebSocket send -> event at every subscriber ({options['events']} actions at {options['rate']:g}/s):\n")
            for clients in counts:
                result = asyncio.run(measure_latency(port, token, clients, options["events"], options["rate"]))
                out.write(f"  {clients:4d} clients: p50 {result['p50']:7.1f} ms   p99 {result['p99']:7.1f} ms   "
                          f"delivered {result['delivered']}/{result['expected']}\n")
        finally:
            deployment.close()
