"""Device presence and connection-health events, shared by every bridge.

A device player (a ``player`` tracker) is **online** while at least one WebSocket
connection has registered as that device (``player.device.register``) and is alive.
Presence is kept outside any one bridge process:

- scaled mode: in Redis (the ``REDIS_URL`` server, keys under ``CHANNELS_PREFIX``), one
  hash per tracker: ``c:<connection id>`` -> expiry (epoch ms), ``last_seen`` -> epoch ms.
  Every bridge refreshes its own connections' entries every ``PRESENCE_REFRESH`` seconds
  and they expire after ``PRESENCE_TTL`` seconds, so the devices of a bridge that died
  (SIGKILL, lost machine) go offline after the TTL without anyone cleaning up.
- embedded mode: in this process's memory, which there *is* the whole server (one bridge
  process holds every connection; a restart leaves nobody connected, which is right).

A connection that dies is noticed by daphne's keepalive pings (``--ping-interval`` /
``--ping-timeout``): the socket is dropped, the consumer's ``disconnect`` removes its
entry at once, and the device goes offline when it was the last one.

Changes are announced with the ``player.device.presence`` event to the owner's and the
controllers' connections (groups ``user.<id>``); ``player.presence.list`` answers the
current presence of the devices a user can see. Offline-by-expiry transitions are found by
a sweep every bridge runs; a Redis ``ZREM`` claims each one, so exactly one bridge announces it.

The same stores count each user's open connections across every bridge (one hash per
user: connection id -> expiry, refreshed and expiring like device entries), so that
``WS_MAX_CONNECTIONS_PER_USER`` holds for the whole server: ``connection_opened`` admits
a connection only while the user has fewer live ones (one atomic step in Redis).

This module also declares ``system.session.resync_required``, the event that tells a
client its view may have missed events (see ``bridge.ws``).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from django.conf import settings
from pydantic import StringConstraints

from common import groups
from common.bounds import TrackerId
from common.clients import get_broadcast_client, run_sync
from common.errors import InvalidPayload
from common.registry import RunsOn, Schema, registry
from tracker import services, store
from tracker.models import Tracker
from tracker.permissions import check_read

logger = logging.getLogger(__name__)



def presence_ttl() -> float:
    """PRESENCE_TTL: seconds after its last refresh that a connection's presence expires (default 60)."""
    return max(2.0, float(settings.PRESENCE_TTL))


def presence_refresh() -> float:
    """PRESENCE_REFRESH: seconds between a bridge's refreshes and sweeps (default TTL / 3)."""
    return max(0.5, float(settings.PRESENCE_REFRESH))


# -- events and actions ------------------------------------------------------------------


class DevicePresence(Schema):
    tracker: str
    online: bool
    connections: int
    last_seen: int | None = None


PRESENCE_EVENT = registry.event(
    "player.device.presence",
    DevicePresence,
    doc=(
        "A device went online (a connection registered as it) or offline (its last connection closed, "
        "stopped answering pings, or its bridge stopped refreshing it for `PRESENCE_TTL` seconds). "
        "`last_seen`: epoch ms of the last sign of life. A state, not a delta: apply the latest."
    ),
    audience="the device's owner and the users who control it (every connection of theirs)",
)


class ResyncRequired(Schema):
    reason: Annotated[str, StringConstraints(min_length=1)]
    dropped: int


RESYNC_EVENT = registry.event(
    "system.session.resync_required",
    ResyncRequired,
    doc=(
        "Events for this connection were lost: `reason` `slow_client` (it read too slowly and more than "
        "`WS_MAX_PENDING_EVENTS` events waited; `dropped` of them were discarded) or `bus_interrupted` "
        "(the server's message bus was interrupted). Resubscribe to every tracker you follow with "
        "`since_version` set to the last version you applied, and reload presence."
    ),
    audience="the connection concerned",
)


class PresenceQuery(Schema):
    tracker: TrackerId | None = None


@registry.action(
    "player.presence.list",
    PresenceQuery,
    runs_on=RunsOn.BRIDGE,
    doc="Which of the device players you can see are online (or just `tracker`): connections and last_seen.",
)
async def list_presence(message, connection) -> dict:
    trackers = await run_sync(_visible_players, message.context, message.payload.get("tracker"))
    status = await get_store().status([tracker_id for tracker_id, _name in trackers])
    devices = []
    for tracker_id, name in trackers:
        connections, last_seen = status.get(tracker_id, (0, None))
        devices.append({"tracker": tracker_id, "device": name, "online": connections > 0, "connections": connections,
                        "last_seen": last_seen})
    return {"devices": devices}


def _visible_players(context, tracker_id: str | None) -> list[tuple[str, str | None]]:
    if tracker_id is not None:
        tracker = store.load(tracker_id)
        check_read(context, tracker)
        if tracker.kind != services.PLAYER:
            raise InvalidPayload("Presence is kept for device players only.")
        trackers = [tracker]
    else:
        trackers = services.visible_trackers(context, services.PLAYER)
    return [(str(t.pk), t.state.get("device")) for t in trackers]


# -- the stores ---------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


class MemoryPresence:
    """Embedded mode: this process is the only bridge."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, int]] = {}
        self.last_seen: dict[str, int] = {}
        self.users: dict[str, dict[str, int]] = {}  # user id -> connection id -> expiry

    async def open_connection(self, user: str, connection: str, limit: int, ttl_ms: int) -> bool:
        now = now_ms()
        entries = self.users.setdefault(user, {})
        for other in [c for c, expiry in entries.items() if expiry <= now]:
            del entries[other]
        if len(entries) - (connection in entries) >= limit:
            return False
        entries[connection] = now + ttl_ms
        return True

    async def close_connection(self, user: str, connection: str) -> None:
        entries = self.users.get(user, {})
        entries.pop(connection, None)
        if not entries:
            self.users.pop(user, None)

    async def refresh_connections(self, pairs: list[tuple[str, str]], ttl_ms: int) -> None:
        now = now_ms()
        for user, connection in pairs:
            self.users.setdefault(user, {})[connection] = now + ttl_ms

    def _live(self, tracker: str, now: int) -> dict[str, int]:
        entries = self.entries.get(tracker, {})
        for connection in [c for c, expiry in entries.items() if expiry <= now]:
            del entries[connection]
        return entries

    async def connect(self, tracker: str, connection: str, ttl_ms: int) -> int:
        now = now_ms()
        before = len(self._live(tracker, now))
        self.entries.setdefault(tracker, {})[connection] = now + ttl_ms
        self.last_seen[tracker] = now
        return before

    async def refresh(self, pairs: list[tuple[str, str]], ttl_ms: int) -> None:
        now = now_ms()
        for tracker, connection in pairs:
            self.entries.setdefault(tracker, {})[connection] = now + ttl_ms
            self.last_seen[tracker] = now

    async def disconnect(self, tracker: str, connection: str) -> bool:
        now = now_ms()
        entries = self.entries.get(tracker, {})
        had = connection in entries
        entries.pop(connection, None)
        self.last_seen[tracker] = now
        if had and not self._live(tracker, now):
            self.entries.pop(tracker, None)
            return True
        return False

    async def sweep(self) -> list[str]:
        now = now_ms()
        gone = [t for t in list(self.entries) if not self._live(t, now)]
        for tracker in gone:
            self.entries.pop(tracker, None)
        return gone

    async def status(self, trackers: list[str]) -> dict[str, tuple[int, int | None]]:
        now = now_ms()
        return {t: (len(self._live(t, now)), self.last_seen.get(t)) for t in trackers}


# KEYS[1] the tracker's hash, KEYS[2] the index (sorted set: tracker -> latest expiry).
# ARGV: tracker, now. Deletes expired fields; returns the live count and whether this
# call removed the tracker from the index (the claim to announce it offline).
_RECOUNT = """
local now = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
local live, latest = 0, 0
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'c:' then
    local expiry = tonumber(fields[i + 1])
    if expiry <= now then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      live = live + 1
      if expiry > latest then latest = expiry end
    end
  end
end
local claimed = 0
if live == 0 then
  claimed = redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], latest, ARGV[1])
end
return {live, claimed}
"""

# Like _RECOUNT, then adds the connection: returns how many live connections there were before.
_CONNECT = """
local now = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'c:' then
    if tonumber(fields[i + 1]) <= now then
      redis.call('HDEL', KEYS[1], fields[i])
    elseif fields[i] ~= 'c:' .. ARGV[3] then
      live = live + 1
    end
  end
end
redis.call('HSET', KEYS[1], 'c:' .. ARGV[3], ARGV[4], 'last_seen', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[1])
return live
"""

# KEYS[1] the user's hash. ARGV: now, connection, expiry, limit. Deletes expired
# connections; adds this one and returns 1 unless the user already has ``limit`` others.
_OPEN = """
local now = tonumber(ARGV[1])
local fields = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i + 1]) <= now then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif fields[i] ~= ARGV[2] then
    live = live + 1
  end
end
if live >= tonumber(ARGV[4]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
"""

LAST_SEEN_KEEP_MS = 30 * 24 * 3600 * 1000


class RedisPresence:
    """Scaled mode: shared by every bridge through Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = f"{prefix}:presence"
        self.index = f"{self.prefix}:index"
        self._clients: dict[Any, Any] = {}

    def _client(self):
        from redis import asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=10)
            self._clients[loop] = client
        return client

    def key(self, tracker: str) -> str:
        return f"{self.prefix}:{tracker}"

    def user_key(self, user: str) -> str:
        return f"{self.prefix}:user:{user}"

    async def open_connection(self, user: str, connection: str, limit: int, ttl_ms: int) -> bool:
        now = now_ms()
        return bool(int(await self._client().eval(_OPEN, 1, self.user_key(user), now, connection, now + ttl_ms, limit)))

    async def close_connection(self, user: str, connection: str) -> None:
        await self._client().hdel(self.user_key(user), connection)

    async def refresh_connections(self, pairs: list[tuple[str, str]], ttl_ms: int) -> None:
        if not pairs:
            return
        expiry = now_ms() + ttl_ms
        async with self._client().pipeline(transaction=False) as pipe:
            for user, connection in pairs:
                pipe.hset(self.user_key(user), connection, expiry)
                pipe.pexpireat(self.user_key(user), expiry)
            await pipe.execute()

    async def connect(self, tracker: str, connection: str, ttl_ms: int) -> int:
        now = now_ms()
        return int(await self._client().eval(_CONNECT, 2, self.key(tracker), self.index, tracker, now, connection, now + ttl_ms,
                                             LAST_SEEN_KEEP_MS))

    async def refresh(self, pairs: list[tuple[str, str]], ttl_ms: int) -> None:
        if not pairs:
            return
        now = now_ms()
        async with self._client().pipeline(transaction=False) as pipe:
            for tracker, connection in pairs:
                pipe.hset(self.key(tracker), mapping={f"c:{connection}": now + ttl_ms, "last_seen": now})
                pipe.pexpire(self.key(tracker), LAST_SEEN_KEEP_MS)
                pipe.zadd(self.index, {tracker: now + ttl_ms}, gt=True)
            await pipe.execute()

    async def disconnect(self, tracker: str, connection: str) -> bool:
        client = self._client()
        removed = await client.hdel(self.key(tracker), f"c:{connection}")
        await client.hset(self.key(tracker), "last_seen", now_ms())
        live, claimed = await client.eval(_RECOUNT, 2, self.key(tracker), self.index, tracker, now_ms())
        return bool(removed) and int(live) == 0 and int(claimed) == 1

    async def sweep(self) -> list[str]:
        client = self._client()
        now = now_ms()
        due = await client.zrangebyscore(self.index, "-inf", now, start=0, num=500)
        gone = []
        for raw in due:
            tracker = raw.decode() if isinstance(raw, bytes) else raw
            live, claimed = await client.eval(_RECOUNT, 2, self.key(tracker), self.index, tracker, now)
            if int(live) == 0 and int(claimed) == 1:
                gone.append(tracker)
        return gone

    async def status(self, trackers: list[str]) -> dict[str, tuple[int, int | None]]:
        if not trackers:
            return {}
        now = now_ms()
        async with self._client().pipeline(transaction=False) as pipe:
            for tracker in trackers:
                pipe.hgetall(self.key(tracker))
            rows = await pipe.execute()
        result = {}
        for tracker, fields in zip(trackers, rows):
            fields = {k.decode(): v.decode() for k, v in fields.items()}
            live = sum(1 for k, v in fields.items() if k.startswith("c:") and int(v) > now)
            last = fields.get("last_seen")
            result[tracker] = (live, int(last) if last else None)
        return result


_store = None


def get_store():
    global _store
    if _store is None:
        _store = RedisPresence(settings.REDIS_URL, settings.CHANNELS_PREFIX) if settings.SCALED else MemoryPresence()
    return _store


# -- this process's connections, and the upkeep loop -------------------------------------

_local: dict[str, str] = {}  # connection id -> tracker id, for this process's refreshes
_users: dict[str, str] = {}  # connection id -> user id: this process's counted connections
_task: asyncio.Task | None = None


async def _announce(tracker: str, online: bool) -> None:
    """Send ``player.device.presence`` to the owner's and controllers' connections."""
    try:
        users = await run_sync(_audience, tracker)
        connections, last_seen = (await get_store().status([tracker])).get(tracker, (0, None))
        payload = {"tracker": tracker, "online": online, "connections": connections, "last_seen": last_seen}
        client = get_broadcast_client()
        for user_id in users:
            await client.broadcast(groups.user_group(user_id), PRESENCE_EVENT.name, payload)
    except Exception:
        logger.warning("could not announce presence of %s", tracker, exc_info=True)


def _audience(tracker_id: str) -> list[int]:
    tracker = Tracker.objects.filter(pk=tracker_id).first()
    if tracker is None:
        return []
    users = [tracker.owner_id] if tracker.owner_id else []
    return users + [pk for pk in tracker.controllers.values_list("pk", flat=True) if pk not in users]


async def device_online(tracker: str, connection: str) -> None:
    """A connection registered as ``tracker``'s device."""
    _local[connection] = tracker
    ensure_running()
    try:
        before = await get_store().connect(tracker, connection, int(presence_ttl() * 1000))
    except Exception:
        logger.warning("presence store unreachable; %s not recorded online", tracker, exc_info=True)
        return
    if before == 0:
        await _announce(tracker, True)


async def device_offline(tracker: str, connection: str) -> None:
    """The connection is gone (or became another device)."""
    if _local.get(connection) == tracker:
        del _local[connection]
    try:
        gone = await get_store().disconnect(tracker, connection)
    except Exception:
        logger.warning("presence store unreachable; %s left to expire", tracker, exc_info=True)
        return
    if gone:
        await _announce(tracker, False)


def max_connections_per_user() -> int:
    """WS_MAX_CONNECTIONS_PER_USER: open connections one user may hold across every bridge (default 20)."""
    return max(1, int(settings.WS_MAX_CONNECTIONS_PER_USER))


async def connection_opened(user_id: Any, connection: str) -> bool:
    """Count a new connection of the user; False (not counted) when the user already holds
    ``WS_MAX_CONNECTIONS_PER_USER`` live ones. An unreachable store admits it (logged)."""
    ensure_running()
    try:
        admitted = await get_store().open_connection(str(user_id), connection, max_connections_per_user(),
                                                     int(presence_ttl() * 1000))
    except Exception:
        logger.warning("presence store unreachable; connection of user %s admitted uncounted", user_id, exc_info=True)
        return True
    if admitted:
        _users[connection] = str(user_id)
    return admitted


async def connection_closed(user_id: Any, connection: str) -> None:
    """The counted connection is gone."""
    if _users.pop(connection, None) is None:
        return
    try:
        await get_store().close_connection(str(user_id), connection)
    except Exception:
        logger.warning("presence store unreachable; connection of user %s left to expire", user_id, exc_info=True)


async def _upkeep() -> None:
    while True:
        await asyncio.sleep(presence_refresh())
        try:
            store = get_store()
            await store.refresh(list((t, c) for c, t in _local.items()), int(presence_ttl() * 1000))
            await store.refresh_connections(list((u, c) for c, u in _users.items()), int(presence_ttl() * 1000))
            for tracker in await store.sweep():
                await _announce(tracker, False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("presence upkeep failed (%s); retrying", exc)


def ensure_running() -> None:
    """Start this process's refresh-and-sweep loop (idempotent)."""
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_upkeep())
