"""A WebSocket client that follows trackers the way the protocol tells clients to.

``SyncClient`` keeps each followed tracker's state and version; applies
``tracker.action.applied`` events in version order; on a gap, on
``system.session.resync_required`` and after every reconnect (to the next bridge in its
list) it resubscribes with ``since_version`` and applies the missing actions or the
snapshot. It counts, per tracker, what it saw: events lost (versions never received as
events), duplicated and out of order, so fault tests can report them and check that after
resync nothing is missing.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from dataclasses import dataclass, field

import websockets

logger = logging.getLogger(__name__)


class Disconnected(Exception):
    pass


@dataclass
class TrackerView:
    tracker: str
    version: int
    state: dict
    first_version: int
    seen_events: set = field(default_factory=set)
    max_event_version: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    resyncs: int = 0
    gap_seen: int = 0  # highest version of an event that could not be applied (a gap)

    def on_event(self, version: int, changes: dict) -> bool:
        """Apply an event; True when it reveals a gap (the caller resyncs)."""
        if version in self.seen_events:
            self.duplicated += 1
            return False
        if version < self.max_event_version:
            self.out_of_order += 1
        self.seen_events.add(version)
        self.max_event_version = max(self.max_event_version, version)
        if version <= self.version:
            return False  # already applied through a resync
        if version == self.version + 1:
            self.state.update(changes)
            self.version = version
            return False
        self.gap_seen = max(self.gap_seen, version)
        return True

    def lost(self, final_version: int) -> int:
        """Versions after the subscription that never arrived as events."""
        return sum(1 for v in range(self.first_version + 1, final_version + 1) if v not in self.seen_events)


class SyncClient:
    def __init__(self, name: str, urls: list[str], token: str, *, device: str | None = None, start: int = 0) -> None:
        self.name = name
        self.urls = urls
        self.token = token
        self.device_name = device
        self.device: str | None = None
        self.url_index = start % len(urls)
        self.ids = itertools.count(1)
        self.ws = None
        self.reader_task: asyncio.Task | None = None
        self.replies: dict[int, asyncio.Future] = {}
        self.views: dict[str, TrackerView] = {}
        self.resync_tasks: dict[str, asyncio.Task] = {}
        self.connected = asyncio.Event()
        self.closing = False
        self.reconnects = 0
        self.resync_notices: list[dict] = []
        self.presence: list[dict] = []
        self.closes: list[int | None] = []
        self.connect_lock = asyncio.Lock()

    # -- connection -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.urls[self.url_index]

    async def connect(self, timeout: float = 30) -> None:
        async with self.connect_lock:
            if self.connected.is_set():
                return
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.ws = await websockets.connect(self.url, additional_headers={"Authorization": f"Token {self.token}"},
                                                       open_timeout=5, max_size=None, ping_interval=None)
                    welcome = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
                    assert welcome.get("event") == "system.session.welcome", welcome
                    break
                except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException, AssertionError) as exc:
                    if time.monotonic() > deadline:
                        raise Disconnected(f"{self.name}: no bridge accepted a connection: {exc}") from exc
                    self.url_index = (self.url_index + 1) % len(self.urls)
                    await asyncio.sleep(0.2)
            self.connected.set()
            self.reader_task = asyncio.create_task(self.read())
        if self.device_name:
            reply = await self.request("player.device.register", {"name": self.device_name})
            assert reply["ok"], reply
            self.device = reply["result"]["tracker"]
        for tracker in list(self.views):
            self.schedule_resync(tracker)

    async def close(self) -> None:
        self.closing = True
        for task in self.resync_tasks.values():
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.reader_task is not None:
            try:
                await asyncio.wait_for(self.reader_task, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                pass

    async def read(self) -> None:
        try:
            async for text in self.ws:
                frame = json.loads(text)
                if "event" in frame:
                    self.on_event(frame)
                else:
                    future = self.replies.pop(frame.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            self.closes.append(self.ws.close_code if self.ws is not None else None)
            self.connected.clear()
            for future in self.replies.values():
                if not future.done():
                    future.set_exception(Disconnected(f"{self.name}: connection lost"))
            self.replies.clear()
            if not self.closing:
                self.reconnects += 1
                self.url_index = (self.url_index + 1) % len(self.urls)
                asyncio.get_running_loop().create_task(self.reconnect())

    async def reconnect(self) -> None:
        try:
            await self.connect()
        except Exception as exc:  # reported by the test through the state comparison
            logger.warning("%s could not reconnect: %s", self.name, exc)

    async def request(self, action: str, payload: dict | None = None, timeout: float = 10) -> dict:
        if not self.connected.is_set():
            raise Disconnected(f"{self.name}: not connected")
        request_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        try:
            await self.ws.send(json.dumps({"id": request_id, "action": action, "payload": payload or {}}))
        except websockets.exceptions.ConnectionClosed as exc:
            self.replies.pop(request_id, None)
            raise Disconnected(str(exc)) from exc
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.replies.pop(request_id, None)

    # -- trackers -------------------------------------------------------------------------

    async def follow(self, tracker: str) -> TrackerView:
        reply = await self.request("tracker.subscribe", {"tracker": tracker})
        assert reply["ok"], reply
        result = reply["result"]
        view = TrackerView(tracker, result["version"], dict(result["state"]), result["version"],
                           max_event_version=result["version"])
        self.views[tracker] = view
        return view

    def on_event(self, frame: dict) -> None:
        name, payload = frame["event"], frame["payload"]
        if name == "tracker.action.applied":
            view = self.views.get(payload["tracker"])
            if view is not None and view.on_event(payload["version"], payload["changes"]):
                self.schedule_resync(view.tracker)
        elif name == "system.session.resync_required":
            self.resync_notices.append(payload)
            for tracker in list(self.views):
                self.schedule_resync(tracker)
        elif name == "player.device.presence":
            self.presence.append(payload)

    def schedule_resync(self, tracker: str) -> None:
        task = self.resync_tasks.get(tracker)
        if task is None or task.done():
            self.resync_tasks[tracker] = asyncio.get_running_loop().create_task(self.resync(tracker))

    async def resync(self, tracker: str) -> None:
        view = self.views[tracker]
        while not self.closing:
            try:
                await self.connected.wait()
                reply = await self.request("tracker.subscribe", {"tracker": tracker, "since_version": view.version})
            except (Disconnected, asyncio.TimeoutError):
                await asyncio.sleep(0.2)
                continue
            if not reply["ok"]:
                await asyncio.sleep(0.2)
                continue
            view.resyncs += 1
            result = reply["result"]
            if result["actions"] is None:
                view.state = dict(result["state"])
                view.version = result["version"]
            else:
                for action in result["actions"]:
                    if action["version"] == view.version + 1:
                        view.state.update(action["changes"])
                        view.version = action["version"]
            if view.gap_seen <= view.version:
                return

    async def settle(self, timeout: float = 10) -> None:
        """Wait until connected and no resync is running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [t for t in self.resync_tasks.values() if not t.done()]
            if self.connected.is_set() and not busy:
                return
            await asyncio.sleep(0.1)

    async def resync_all(self) -> None:
        """An explicit resync of every followed tracker (the final check)."""
        for tracker in self.views:
            self.views[tracker].gap_seen = 0
            await self.resync(tracker)


def report(clients: list[SyncClient], truth: dict[str, tuple[int, dict]]) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Per tracker: events lost / duplicated / out of order summed over clients, and mismatches."""
    totals: dict[str, dict[str, int]] = {}
    for client in clients:
        for tracker, view in client.views.items():
            version, state = truth[tracker]
            row = totals.setdefault(tracker, {"lost": 0, "duplicated": 0, "out_of_order": 0, "resyncs": 0, "stale_clients": 0})
            row["lost"] += view.lost(version)
            row["duplicated"] += view.duplicated
            row["out_of_order"] += view.out_of_order
            row["resyncs"] += view.resyncs
            row["stale_clients"] += int(view.version != version or view.state != state)
    lines = [f"{'tracker':36} {'version':>7} {'lost':>5} {'dup':>5} {'ooo':>5} {'resyncs':>7} {'stale':>5}"]
    for tracker, row in sorted(totals.items()):
        lines.append(f"{tracker:36} {truth[tracker][0]:7d} {row['lost']:5d} {row['duplicated']:5d} {row['out_of_order']:5d} "
                     f"{row['resyncs']:7d} {row['stale_clients']:5d}")
    return lines, totals
