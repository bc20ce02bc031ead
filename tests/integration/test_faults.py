"""Fault injection on the scaled stack: real processes on PostgreSQL and Redis.

Two bridges (daphne, keepalive 2 s / 2 s), two workers. Each test injects one fault while
clients (``resync.SyncClient``: they apply events by version and resync on gaps, on
``system.session.resync_required`` and after reconnecting) dispatch player actions, then
prints, per tracker, the events clients lost, saw twice and saw out of order, and checks
that afterwards every client's state and version equal the database's.
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import subprocess
import time

import pytest
import websockets

from devtools.bench.fanout import make_tracks
from tests.services import POSTGRES_URL, REDIS_URL

from .resync import Disconnected, SyncClient, report
from devtools.deploy import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL), reason="DATABASE_URL (PostgreSQL) and REDIS_URL are not both set: fault tests need them"),
]

RPC_TIMEOUT = 3.0
PRESENCE_TTL = 4
PING = ("--ping-interval", "2", "--ping-timeout", "2")
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path_factory.mktemp("faults"), RPC_TIMEOUT=str(RPC_TIMEOUT),
                  PRESENCE_TTL=str(PRESENCE_TTL), PRESENCE_REFRESH="1", WS_RATE_LIMIT="1000", WS_RATE_BURST="1000",
                  LOG_LEVEL="WARNING").create()
    try:
        stack.tracks = make_tracks(stack, 100)  # queues take only tracks that exist
        start_all(stack)
        yield stack
    finally:
        stack.destroy()


def start_all(stack: Stack) -> None:
    for name in ("bridge-a", "bridge-b"):
        if name not in stack.processes:
            stack.start_bridge(name, daphne_args=PING, wait=False)
    for name in ("worker-1", "worker-2"):
        if name not in stack.processes:
            stack.start_worker(name)
    for name in ("bridge-a", "bridge-b"):
        stack.wait_http(stack.ports[name])
        stack.wait_healthy(name)


@pytest.fixture
def show(capsys):
    def show(title: str, lines: list[str]) -> None:
        with capsys.disabled():
            print(f"\n--- {title}")
            for line in lines:
                print("    " + line)

    return show


# -- helpers -------------------------------------------------------------------------------


async def open_clients(stack: Stack, token: str, names: list[str], bridges: list[str]) -> list[SyncClient]:
    urls = [stack.ws_url(b) for b in ("bridge-a", "bridge-b")]
    clients = []
    for i, name in enumerate(names):
        start = ("bridge-a", "bridge-b").index(bridges[i % len(bridges)])
        client = SyncClient(name, urls, token, device=name, start=start)
        await client.connect()
        clients.append(client)
    trackers = [c.device for c in clients]
    for client in clients:
        for tracker in trackers:
            await client.follow(tracker)
    return clients


async def traffic(clients: list[SyncClient], trackers: list[str], tracks: list[int], seconds: float,
                  seed: int) -> collections.Counter:
    """Every client dispatches player actions to random trackers for ``seconds``; outcome counts."""
    outcomes: collections.Counter = collections.Counter()
    rng = random.Random(seed)

    async def run(client: SyncClient) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tracker = rng.choice(trackers)
            action, payload = rng.choice([
                ("player.volume.set", {"volume": rng.randrange(101)}),
                ("player.queue.append", {"tracks": [rng.choice(tracks)]}),
                ("player.mode.set", {"shuffle": rng.random() < 0.5}),
            ])
            try:
                reply = await client.request(action, {"tracker": tracker, **payload}, timeout=RPC_TIMEOUT + 3)
                outcomes["ok" if reply["ok"] else reply["error"]["code"]] += 1
            except Disconnected:
                outcomes["disconnected"] += 1
                await asyncio.sleep(0.1)
            except asyncio.TimeoutError:
                outcomes["no_reply"] += 1  # a request that got no answer at all: never allowed
            await asyncio.sleep(0.02)

    await asyncio.gather(*(run(c) for c in clients))
    return outcomes


async def converge(stack: Stack, clients: list[SyncClient], timeout: float) -> tuple[dict, list]:
    """Wait until every client's view equals the database (the clients resync on their own)."""
    trackers = {t for c in clients for t in c.views}
    deadline = time.monotonic() + timeout
    while True:
        for client in clients:
            await client.settle(max(0.1, deadline - time.monotonic()))
        truth = await asyncio.to_thread(stack.tracker_states, trackers)
        stale = [(c.name, t[:8], v.version, truth[t][0]) for c in clients for t, v in c.views.items()
                 if (v.version, v.state) != truth[t]]
        if not stale or time.monotonic() > deadline:
            return truth, stale
        await asyncio.sleep(0.3)


async def check_and_report(stack, clients, show, title: str, outcomes, converge_within: float) -> dict:
    truth, stale = await converge(stack, clients, converge_within)
    lines, totals = report(clients, truth)
    show(title, [f"requests: {dict(outcomes)}",
                 f"reconnects: {sum(c.reconnects for c in clients)}, resync notices: {sum(len(c.resync_notices) for c in clients)}",
                 *lines, f"stale after the clients' own resyncs: {stale or 'none'}"])
    assert outcomes["no_reply"] == 0, outcomes
    assert not stale, f"clients did not converge on the database by themselves: {stale}"
    # A final explicit resync changes nothing: nothing was left missing.
    for client in clients:
        before = {t: (v.version, dict(v.state)) for t, v in client.views.items()}
        await client.resync_all()
        assert {t: (v.version, v.state) for t, v in client.views.items()} == before
        for tracker, view in client.views.items():
            assert (view.version, view.state) == truth[tracker]
    return totals


async def close_all(clients) -> None:
    for client in clients:
        await client.close()


# -- a bridge dies --------------------------------------------------------------------------


async def test_bridge_killed_clients_move_to_the_other_bridge_and_resync(stack, show):
    token = stack.make_users("roamer")["roamer"]
    clients = await open_clients(stack, token, ["a1", "a2", "b1", "b2"], ["bridge-a", "bridge-a", "bridge-b", "bridge-b"])
    trackers = [c.device for c in clients]
    # A device whose only connection is on bridge A and never comes back.
    lonely = await websockets.connect(stack.ws_url("bridge-a"), additional_headers={"Authorization": f"Token {token}"})
    await lonely.recv()
    await lonely.send(json.dumps({"id": 1, "action": "player.device.register", "payload": {"name": "lonely"}}))
    lonely_tracker = None
    while lonely_tracker is None:
        frame = json.loads(await lonely.recv())
        if frame.get("id") == 1:
            lonely_tracker = frame["result"]["tracker"]
    try:
        load = asyncio.create_task(traffic(clients, trackers, stack.tracks, 6.0, seed=1))
        await asyncio.sleep(2.0)
        killed_at = time.monotonic()
        await asyncio.to_thread(stack.kill, "bridge-a")
        outcomes = await load
        await check_and_report(stack, clients, show, "bridge A killed (SIGKILL) during traffic", outcomes, converge_within=15)
        for client in clients[:2]:
            assert client.reconnects >= 1 and client.url == stack.ws_url("bridge-b")
        # The lonely device goes offline once bridge A's presence entries expire; bridge B announces it.
        watcher = clients[2]
        deadline = killed_at + PRESENCE_TTL + 8
        while not any(p["tracker"] == lonely_tracker and not p["online"] for p in watcher.presence):
            assert time.monotonic() < deadline, f"no offline event for the dead bridge's device: {watcher.presence}"
            await asyncio.sleep(0.2)
        offline_after = time.monotonic() - killed_at
        listed = (await watcher.request("player.presence.list"))["result"]["devices"]
        by_tracker = {d["tracker"]: d for d in listed}
        assert by_tracker[lonely_tracker]["online"] is False
        for tracker in trackers:  # reconnected elsewhere; the dead bridge's entries expired
            assert by_tracker[tracker]["online"] is True and by_tracker[tracker]["connections"] == 1, by_tracker[tracker]
        show("presence", [f"the dead bridge's device announced offline {offline_after:.1f} s after the kill "
                          f"(PRESENCE_TTL {PRESENCE_TTL} s)"])
    finally:
        await close_all(clients)
        try:
            await lonely.close()
        except Exception:
            pass
        await asyncio.to_thread(start_all, stack)


# -- a worker dies mid-request ----------------------------------------------------------------


def socket_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets a process holds (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_worker_killed_mid_request_in_flight_times_out_and_the_other_serves(stack, show):
    import psycopg

    from devtools.deploy import with_database

    # Four requests: each worker runs up to six handlers at once (its thread pool), so all
    # four are inside a worker, in flight, while the row locks hold them.
    tokens = stack.make_users(*(f"busy{i}" for i in range(4)))
    clients = []
    for i, token in enumerate(tokens.values()):
        client = SyncClient(f"busy{i}", [stack.ws_url("bridge-a" if i % 2 else "bridge-b")], token, device="d")
        await client.connect()
        await client.follow(client.device)
        clients.append(client)
    trackers = [c.device for c in clients]
    workers = {name: stack.processes[name].pid for name in ("worker-1", "worker-2")}
    try:
        # Hold every tracker's row lock so the dispatches block inside the workers: in flight.
        database = with_database(stack.admin_url, stack.db_name)
        locker = await psycopg.AsyncConnection.connect(database)
        monitor = await psycopg.AsyncConnection.connect(database, autocommit=True)  # fresh statistics each query
        await locker.execute("BEGIN")
        await locker.execute("SELECT id FROM tracker_tracker WHERE id::text = ANY(%s) FOR UPDATE", (trackers,))
        started = time.monotonic()
        requests = [asyncio.create_task(c.request("player.volume.set", {"volume": 7}, timeout=RPC_TIMEOUT + 5)) for c in clients]
        holders: dict[str, set[str]] = {}
        while time.monotonic() - started < 2.5:
            rows = await (await monitor.execute(
                "SELECT client_port, query FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                (stack.db_name,))).fetchall()
            ports = {name: socket_ports(pid) for name, pid in workers.items()}
            holders = {}
            for port, query in rows:
                tracker = next((t for t in trackers if t.replace("-", "") in query or t in query), None)
                owner = next((name for name, owned in ports.items() if port in owned), None)
                if tracker and owner:
                    holders.setdefault(tracker, set()).add(owner)
            if len(holders) == len(trackers):
                break
            await asyncio.sleep(0.05)
        assert len(holders) == len(trackers), f"not every request reached a worker: {holders}"
        # The victim is a worker that alone holds at least one request (how the bus spreads
        # four requests over two workers varies from run to run).
        victim = next((name for name in ("worker-1", "worker-2") if {name} in holders.values()), "worker-1")
        survivor = "worker-2" if victim == "worker-1" else "worker-1"
        await asyncio.to_thread(stack.kill, victim)
        await locker.execute("ROLLBACK")
        await locker.close()
        await monitor.close()
        replies = await asyncio.gather(*requests)
        answered_in = time.monotonic() - started
        outcome = {t: ("ok" if r["ok"] else r["error"]["code"]) for t, r in zip(trackers, replies)}
        expected = {t: ("timeout" if holders[t] == {victim} else "ok") for t in trackers if len(holders[t]) == 1}
        # The survivor takes every new request at once.
        pings = [await clients[i % len(clients)].request("system.health.ping", timeout=RPC_TIMEOUT + 2) for i in range(10)]
        handled = collections.Counter(p["result"]["handled_by"].rsplit(":", 1)[1] if p["ok"] else p["error"]["code"] for p in pings)
        totals = await check_and_report(stack, clients, show, f"{victim} killed (SIGKILL) with requests in flight",
                                        collections.Counter(outcome.values()), converge_within=10)
        on_victim = sum(1 for t in trackers if holders[t] == {victim})
        show("worker kill", [f"in flight: {len(trackers)} ({on_victim} on the killed worker); replies "
                             f"{dict(collections.Counter(outcome.values()))} all within {answered_in:.1f} s "
                             f"(RPC_TIMEOUT {RPC_TIMEOUT:g} s); next pings handled by {dict(handled)}"])
        assert on_victim >= 1, f"the killed worker held none of the requests; the test proved nothing: {holders}"
        assert {t: outcome[t] for t in expected} == expected
        assert set(outcome.values()) <= {"ok", "timeout"}
        assert answered_in < RPC_TIMEOUT + 2
        assert handled == {str(workers[survivor]): 10}
        # The killed worker's transactions were rolled back: no version was lost or doubled.
        for tracker in trackers:
            versions = [r[0] for r in await asyncio.to_thread(
                stack.sql, "SELECT version FROM tracker_trackeraction WHERE tracker_id::text = %s ORDER BY version", tracker)]
            assert versions == list(range(1, len(versions) + 1))
        assert all(row["lost"] == 0 for row in totals.values())
    finally:
        await close_all(clients)
        await asyncio.to_thread(start_all, stack)


# -- Redis restarts ---------------------------------------------------------------------------


def redis_ping() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def start_redis() -> None:
    if redis_ping():
        return
    subprocess.run(REDIS_START, check=True, timeout=30)
    deadline = time.monotonic() + 30
    while not redis_ping():
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not come back")
        time.sleep(0.1)


async def test_redis_restart_during_traffic_everything_recovers_and_clients_resync(stack, show):
    if not REDIS_URL.startswith("redis://127.0.0.1:6379") or not os.path.isdir("/var/lib/redis"):
        pytest.skip("restarts the machine's Redis (127.0.0.1:6379, /var/lib/redis) only")
    token = stack.make_users("survivor")["survivor"]
    clients = await open_clients(stack, token, ["r1", "r2", "r3", "r4"], ["bridge-a", "bridge-b"])
    trackers = [c.device for c in clients]
    try:
        load = asyncio.create_task(traffic(clients, trackers, stack.tracks, 9.0, seed=3))
        await asyncio.sleep(2.0)
        try:
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], capture_output=True, timeout=10)
            down_at = time.monotonic()
            await asyncio.sleep(2.0)
        finally:
            await asyncio.to_thread(start_redis)
        up_at = time.monotonic()
        # Bridges and workers recover by themselves: a real RPC through each bridge.
        recovered = {}
        for bridge in ("bridge-a", "bridge-b"):
            while True:
                status, body = await asyncio.to_thread(stack.health, bridge)
                if status == 200:
                    recovered[bridge] = time.monotonic() - up_at
                    break
                assert time.monotonic() - up_at < 15, f"{bridge} still down 15 s after Redis came back: {body}"
                await asyncio.sleep(0.2)
        outcomes = await load
        await check_and_report(stack, clients, show, f"Redis restarted ({up_at - down_at:.1f} s down) during traffic",
                               outcomes, converge_within=10)
        show("recovery", ["healthy again after Redis came back: " + ", ".join(f"{b} {s:.1f} s" for b, s in recovered.items()),
                          f"resync notices per client: {[len(c.resync_notices) for c in clients]}"])
        assert all(any(n["reason"] == "bus_interrupted" for n in c.resync_notices) for c in clients)
        for name in ("bridge-a", "bridge-b", "worker-1", "worker-2"):
            assert stack.processes[name].poll() is None, f"{name} died"
        assert "Exception inside application" not in stack.log("bridge-a") + stack.log("bridge-b")
    finally:
        await asyncio.to_thread(start_redis)
        await close_all(clients)


# -- the orchestrator dies mid-scan -------------------------------------------------------------

SCAN_FILES = 6000


def scan_state(stack: Stack) -> tuple[int, list[tuple]]:
    # Only the scanned library's: other tests of the module queue tracks of their own.
    tracks = stack.sql("SELECT count(*) FROM library_track t JOIN library_library l ON l.id = t.library_id "
                       "WHERE l.name = 'faults'")[0][0]
    runs = stack.sql("SELECT id, status, message FROM library_scanrun ORDER BY id")
    return tracks, runs


async def test_orchestrator_killed_mid_scan_the_next_scan_completes_the_catalogue(stack, show, tmp_path):
    from library.sample import make_sample_library

    from orchestrator.scan.lease import LEASE_SECONDS

    root = tmp_path / "library"
    await asyncio.to_thread(make_sample_library, root, SCAN_FILES, 7)
    setup = (
        "from orchestrator import services;"
        f"library = services.library_add('faults', {str(root)!r}, interval=0);"
        "print('TRACKER=' + str(services.scan_tracker(library).pk))"
    )
    output = await asyncio.to_thread(stack.manage, "shell", "-c", setup)
    tracker = next(line[8:] for line in output.splitlines() if line.startswith("TRACKER="))
    token = stack.make_users("librarian")["librarian"]
    watcher = SyncClient("watcher", [stack.ws_url("bridge-a"), stack.ws_url("bridge-b")], token)
    await watcher.connect()
    await watcher.follow(tracker)
    request = "from orchestrator import services; print('SCAN=%d' % services.scan_request('faults', trigger='test').pk)"
    try:
        stack.start_orchestrator()
        await asyncio.to_thread(stack.manage, "shell", "-c", request)
        # Kill it once some batches are committed, well before the end.
        deadline = time.monotonic() + 40
        while True:
            tracks, runs = await asyncio.to_thread(scan_state, stack)
            if tracks >= 500 and runs and runs[-1][1] == "running":
                break
            assert time.monotonic() < deadline, f"the scan did not get going: {tracks} tracks, runs {runs}"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(stack.kill, "orchestrator")
        killed_at = time.time()
        tracks_at_kill, runs = await asyncio.to_thread(scan_state, stack)
        assert tracks_at_kill < SCAN_FILES and runs[-1][1] == "running", (tracks_at_kill, runs)
        # The catalogue is consistent at every commit: every track has its album and artist.
        orphans = await asyncio.to_thread(stack.sql, "SELECT count(*) FROM library_track t LEFT JOIN library_album a ON a.id = t.album_id WHERE a.id IS NULL")
        assert orphans[0][0] == 0
        # The dead scan's lease still holds, for a bounded time: a new scan is refused meanwhile...
        holder, expires = (await asyncio.to_thread(stack.sql, "SELECT lease_holder, extract(epoch FROM lease_expires) FROM library_library WHERE name = 'faults'"))[0]
        assert holder and killed_at < float(expires) <= killed_at + LEASE_SECONDS + 5
        with pytest.raises(RuntimeError, match="already running"):
            await asyncio.to_thread(stack.manage, "shell", "-c", request)
        # ... and taken over once it expires. Waiting LEASE_SECONDS (300 s) is what a real
        # deployment does; here the clock is moved instead: the lease is aged past its expiry.
        await asyncio.to_thread(stack.sql, "UPDATE library_library SET lease_expires = now() - interval '1 second' WHERE name = 'faults'")
        stack.start_orchestrator()
        output = await asyncio.to_thread(stack.manage, "shell", "-c", request)
        second = int(next(line[5:] for line in output.splitlines() if line.startswith("SCAN=")))
        deadline = time.monotonic() + 45
        while True:
            tracks, runs = await asyncio.to_thread(scan_state, stack)
            status = {run[0]: run[1] for run in runs}
            if status.get(second) in ("completed", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, f"the second scan did not finish: {runs}"
            await asyncio.sleep(0.2)
        assert status[second] == "completed", runs
        assert tracks == SCAN_FILES
        interrupted = [run for run in runs if run[0] != second]
        assert [run[1] for run in interrupted] == ["failed"] and "Interrupted" in interrupted[0][2], runs
        # The scan releases its lease last, after recording its outcome and telling the tracker.
        deadline = time.monotonic() + 10
        while (await asyncio.to_thread(stack.sql, "SELECT lease_holder FROM library_library WHERE name = 'faults'"))[0][0]:
            assert time.monotonic() < deadline, "the completed scan kept its lease"
            await asyncio.sleep(0.1)
        outcomes = collections.Counter({"scans": 2})
        await check_and_report(stack, [watcher], show,
                               f"orchestrator killed (SIGKILL) mid-scan at {tracks_at_kill}/{SCAN_FILES} files", outcomes,
                               converge_within=10)
        state = watcher.views[tracker].state
        assert state["status"] == "completed", state
    finally:
        await watcher.close()
        stack.stop("orchestrator")
