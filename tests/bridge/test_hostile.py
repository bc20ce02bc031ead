"""Hostile input against a live bridge (a real daphne process, embedded mode).

- A property-based fuzz (Hypothesis) of WebSocket frames: random JSON, wrong types, huge
  strings, deep nesting, lone surrogates, binary frames. Every frame gets exactly one reply
  (its id, or null when it had no usable one), never an ``internal`` error, or a documented
  close; the server stays up, its memory stays bounded, and another user's connection,
  running alongside, loses no event and keeps getting prompt answers.
- A property-based fuzz of hostile values in real actions' fields (ids and counts past
  2**53 - 1 or negative, numbers as text in other scripts, floats, deep lists, odd tracker
  ids): each is refused with a clear error, never ``internal``, and the player is unchanged.
- Floods (closed with 4429) and WebSocket protocol violations (the connection is dropped).
- Auth and permissions: another user's tracker, a forged Origin, missing, unknown and
  deleted tokens.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from common.legacy import LEGACY_NAMES
from common.registry import registry
from devtools.deploy import EmbeddedServer
from devtools.wsclient import RawWebSocket, WsClient

MAX_FRAME = 65536  # WS_MAX_FRAME_BYTES (default)
DOCUMENTED_CLOSES = {4429}  # the only close valid frames can earn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("hostile"), WS_RATE_LIMIT="1000", WS_RATE_BURST="1000")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(server):
    return server.make_users("mallory", "alice", "bob", "gone")


def connect(server, token: str | None = None, **headers) -> RawWebSocket:
    if token:
        headers["Authorization"] = f"Token {token}"
    return RawWebSocket("127.0.0.1", server.port, headers=headers)


# -- the fuzz ---------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=16)
names = st.sampled_from(sorted(registry.actions) + sorted(LEGACY_NAMES) + [
    "bus.reply", "bus.event", "bus_reply", "websocket.close", "websocket_disconnect", "", "x" * 101, "system.health.ping ",
])
ids = st.one_of(st.integers(), st.integers(min_value=2**53 - 2, max_value=2**60), st.text(max_size=70), st.booleans(),
                st.none(), st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=2))
field_names = st.sampled_from(["tracker", "expected_version", "name", "tracks", "volume", "index", "position_ms", "text",
                               "since_version", "kind", "user", "to", "query", "type", "id"])
payloads = st.one_of(json_values, st.dictionaries(field_names, json_values, max_size=4))
envelopes = st.fixed_dictionaries({}, optional={"id": ids, "action": names | st.text(max_size=30), "payload": payloads,
                                                "type": st.just("websocket.close"), "extra": json_values})
NASTY = [
    '{"id": "\\ud800", "action": "system.health.ping"}',
    '{"id": 1, "action": "\\udfff\\ud800"}',
    '{"id": 2, "action": "player.device.register", "payload": {"name": "\\ud83d"}}',
    '{"id": 3, "action": "system.health.ping", "payload": null}',
    '{"id": 1e400}', '{"id": NaN}', '{"id": Infinity, "action": "x"}', '{"id": -0.0}',
    '{"id": 4, "id": 5, "action": "system.health.ping"}',
    "\x00", "", " ", "null", "[]", "{}", '"just a string"', "12345678901234567890123456789",
]


@st.composite
def frames(draw):
    """(kind, data): kind "text" or "binary"."""
    choice = draw(st.integers(0, 9))
    if choice <= 3:
        return "text", json.dumps(draw(envelopes))
    if choice == 4:
        return "text", json.dumps(draw(json_values))
    if choice == 5:
        return "text", draw(st.text(max_size=120) | st.sampled_from(NASTY))
    if choice == 6:
        depth = draw(st.integers(1, 20_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = "1" if opener != "[" else ""
        return "text", opener * depth + inner + closer * depth
    if choice == 7:
        size = draw(st.sampled_from([MAX_FRAME - 60, MAX_FRAME + 1, 300_000]))
        return "text", json.dumps({"id": "big", "action": "player.device.register", "payload": {"name": "x" * size}})
    if choice == 8:
        return "binary", draw(st.binary(max_size=300))
    return "text", json.dumps({"id": draw(ids), "action": draw(names), "payload": draw(payloads)})


def expected_id(kind: str, data: str):
    """The id the reply must carry, as the server reads the frame."""
    if kind == "binary" or len(data.encode("utf-8", "surrogatepass")) > MAX_FRAME:
        return None
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    value = frame.get("id") if isinstance(frame, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**53) < value < 2**53 else None
    if isinstance(value, str) and 0 < len(value) <= 64:
        return value
    return None


class Bystander(threading.Thread):
    """Another user, on its own connections: dispatches to its device and follows it, meanwhile."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.versions: list[int] = []
        self.latencies: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self.main())
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.ready.set()

    async def main(self) -> None:
        async with WsClient(self.url, self.token) as follower, WsClient(self.url, self.token) as actor:
            tracker = (await follower.request("player.device.register", {"name": "bystander"}))["result"]["tracker"]
            self.ready.set()
            sent = 0
            while not self.stop.is_set():
                started = time.monotonic()
                reply = await actor.request("player.volume.set", {"tracker": tracker, "volume": sent % 101})
                self.latencies.append(time.monotonic() - started)
                assert reply["ok"], reply
                sent += 1
                await asyncio.sleep(0.05)
            while len(self.versions) < sent:
                self.versions.append((await follower.event("tracker.action.applied", timeout=10, tracker=tracker))["payload"]["version"])


class Session:
    """One fuzzing connection, reopened when the server closed it (with a documented code)."""

    def __init__(self, server, token: str) -> None:
        self.server, self.token = server, token
        self.ws: RawWebSocket | None = None
        self.closes: list[int] = []
        self.frames = 0

    def open(self) -> RawWebSocket:
        if self.ws is None:
            self.ws = connect(self.server, self.token)
            assert self.ws.status == 101
            assert self.ws.recv_json()["event"] == "system.session.welcome"
        return self.ws

    def check(self, kind: str, data: str) -> None:
        ws = self.open()
        self.frames += 1
        if kind == "binary":
            ws.send_frame(0x2, data)
        else:
            ws.send_text(data)
        want = expected_id(kind, data)
        while True:
            try:
                frame = ws.recv_json(timeout=10)
            except ConnectionError:
                code = ws.close_code
                ws.close()
                self.ws = None
                assert code in DOCUMENTED_CLOSES, f"closed with undocumented code {code} after {data[:200]!r}"
                self.closes.append(code)
                return
            if "event" in frame:
                continue
            assert frame["id"] == want, (frame, data[:300])
            if not frame["ok"]:
                assert frame["error"]["code"] and frame["error"]["message"]
                assert frame["error"]["code"] != "internal", (frame, data[:300])
            return


def healthy(server) -> bool:
    with urllib.request.urlopen(server.url("/healthz"), timeout=10) as response:
        return response.status == 200


def test_fuzzed_frames_each_get_one_reply_and_nobody_else_notices(server, tokens):
    bystander = Bystander(server.ws_url, tokens["alice"])
    bystander.start()
    assert bystander.ready.wait(20) and bystander.error is None, bystander.error
    session = Session(server, tokens["mallory"])
    rss_before = server.rss_kib()
    started = time.monotonic()

    @hypothesis_settings(max_examples=600, deadline=None, derandomize=False, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(frames())
    def fuzz(frame):
        session.check(*frame)

    try:
        fuzz()
    finally:
        bystander.stop.set()
        bystander.join(30)
        if session.ws is not None:
            session.ws.close()
    elapsed = time.monotonic() - started
    rss_after = server.rss_kib()
    assert server.alive() and healthy(server)
    assert bystander.error is None, repr(bystander.error)
    assert bystander.versions == list(range(bystander.versions[0], bystander.versions[0] + len(bystander.versions)))
    slowest = max(bystander.latencies)
    print(f"\nfuzz: {session.frames} frames in {elapsed:.1f} s, closes {session.closes}, server RSS "
          f"{rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB; bystander {len(bystander.versions)} events in order, "
          f"slowest reply {slowest * 1000:.0f} ms")
    assert rss_after - rss_before < 40 * 1024, (rss_before, rss_after)
    assert slowest < 2.0


hostile_numbers = st.one_of(
    st.integers(min_value=2**53), st.integers(max_value=-1), st.sampled_from([2**53, 2**63, 2**64, 2**70, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.sampled_from(["²", "٣", "١٢٣", "𝟗", "1e400", "9" * 30, "-0", " 1", "1_0", ""]),
)
hostile_lists = st.recursive(hostile_numbers, lambda inner: st.lists(inner, min_size=1, max_size=3), max_leaves=6).filter(
    lambda value: isinstance(value, list))
hostile_tracker_ids = st.sampled_from(["a b", "é", "tracker.x", "0" * 64, "\u0000", "../x", "*", "00000000-0000-0000-0000-00000000000g",
                                       "00000000-0000-0000-0000-000000000000", "x" * 65, ""]) | st.text(max_size=40)
# Fields of real actions that take ids, counts or indexes; any hostile value in one is refused.
NUMERIC_FIELDS = {
    "player.queue.replace": {"tracks": [1], "index": 0, "position_ms": 0}, "player.queue.append": {"tracks": [1]},
    "player.queue.insert_next": {"tracks": [1]}, "player.queue.remove": {"index": 0},
    "player.queue.move": {"from_index": 0, "to_index": 0}, "player.playback.play": {"index": 0, "position_ms": 0},
    "player.playback.seek": {"position_ms": 0}, "player.volume.set": {"volume": 5},
    "library.album.list": {"artist": 1, "offset": 0, "limit": 1, "library": 1, "year": 1999},
    "library.artist.get": {"artist": 1}, "library.track.get": {"track": 1}, "play.record": {"track": 1},
    "playlist.create": {"name": "x", "tracks": [1]}, "favourite.set": {"kind": "track", "id": 1},
    "tracker.subscribe": {"tracker": None, "since_version": 0},
}


@st.composite
def hostile_requests(draw, device: str):
    """(action, payload) with exactly one field made hostile."""
    action = draw(st.sampled_from(sorted(NUMERIC_FIELDS) + ["tracker.state.get", "player.playback.pause"]))
    base = {key: (device if value is None else value) for key, value in NUMERIC_FIELDS.get(action, {}).items()}
    if not base or draw(st.integers(0, 4)) == 0:
        field = "tracker"
        value = draw(hostile_tracker_ids)
    elif draw(st.booleans()) and action.startswith("player."):
        field = "expected_version"
        value = draw(hostile_numbers)
    else:
        field = draw(st.sampled_from(sorted(key for key, value in base.items() if isinstance(value, (int, list)))))
        value = draw(hostile_lists if isinstance(base[field], list) else hostile_numbers | hostile_lists)
    if field == "tracks" and not isinstance(value, list):
        value = [value]
    return action, {**base, field: value}


def test_fuzzed_fields_are_refused_clearly_and_change_no_player(server, tokens):
    ws = connect(server, tokens["mallory"])
    assert ws.recv_json()["event"] == "system.session.welcome"
    device = ws.request(1, "player.device.register", {"name": "fuzzed"})["result"]["tracker"]
    before = ws.request(2, "tracker.state.get", {"tracker": device})["result"]
    counter = iter(range(10, 10**9))

    @hypothesis_settings(max_examples=200, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])
    @given(hostile_requests(device))
    def fuzz(request):
        action, payload = request
        reply = ws.request(next(counter), action, payload)
        assert reply["ok"] is False, (request, reply)
        assert reply["error"]["code"] in ("invalid_payload", "not_found", "bad_request"), (request, reply)
        assert reply["error"]["message"]
        after = ws.request(next(counter), "tracker.state.get", {"tracker": device})["result"]
        assert after == before, request

    try:
        fuzz()
    finally:
        ws.close()
    assert server.alive() and healthy(server)


# -- floods and protocol abuse ------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """The default rate limits (30 a second, bursts of 60)."""
    server = EmbeddedServer(tmp_path_factory.mktemp("hostile-strict"))
    server.start()
    yield server
    server.stop()


def test_a_flood_is_refused_then_closed_4429_and_others_carry_on(strict_server):
    server = strict_server
    tokens = server.make_users("mallory", "alice")
    flooder = connect(server, tokens["mallory"])
    flooder.recv_json()
    frame = json.dumps({"id": 1, "action": "system.health.ping"}).encode()
    for _ in range(1000):  # far beyond the burst, without reading
        flooder.send_frame(0x1, frame)
    codes = {}
    while True:
        try:
            reply = flooder.recv_json(timeout=20)
        except ConnectionError:
            break
        except TimeoutError:
            probe = connect(server, tokens["alice"])
            probe.recv_json()
            alive = probe.request(1, "system.health.ping", timeout=5)
            raise AssertionError(f"no close after {codes}; another connection: {alive}; {server.log()[-2000:]}")
        key = "ok" if reply.get("ok") else reply["error"]["code"]
        codes[key] = codes.get(key, 0) + 1
    flooder.close()
    assert flooder.close_code == 4429, (flooder.close_code, codes)
    assert codes.get("rate_limited", 0) >= 199 and codes.get("ok", 0) >= 1, codes  # replies still queued at the close are not sent
    other = connect(server, tokens["alice"])
    other.recv_json()
    assert other.request(1, "system.health.ping")["ok"]
    other.close()


@pytest.mark.parametrize(
    "send",
    [
        lambda ws: ws.send_frame(0x1, json.dumps({"id": 1, "action": "system.health.ping"}).encode(), mask=False),
        lambda ws: ws.send_frame(0x1, b'{"id": 1, "action": "\xff\xfe"}'),
        lambda ws: ws.send_frame(0x1, b"x" * (1024 * 1024 + 1)),
        lambda ws: ws.send_frame(0x1, b"", length=2**40),
        lambda ws: ws.send_frame(0x3, b"reserved opcode"),
        lambda ws: ws.send_frame(0x9, b"p" * 200),  # control frames are at most 125 bytes
        lambda ws: ws.send_frame(0x1, b'{"id": 1,', fin=False) or ws.send_frame(0x1, b'"action": "x"}'),  # not a continuation
    ],
    ids=["unmasked", "invalid-utf8", "over-1MiB", "lying-length", "reserved-opcode", "oversized-ping", "bad-fragmentation"],
)
def test_protocol_violations_drop_the_connection_and_the_server_carries_on(server, tokens, send):
    """daphne's WebSocket layer (autobahn, ``failByDrop``) drops the TCP connection, without a close frame."""
    ws = connect(server, tokens["mallory"])
    ws.recv_json()
    send(ws)
    with pytest.raises(ConnectionError):
        while True:
            ws.recv_json(timeout=10)
    ws.close()
    assert ws.close_code is None
    assert healthy(server)
    other = connect(server, tokens["alice"])
    other.recv_json()
    assert other.request(1, "system.health.ping")["ok"]
    other.close()


# -- who may do what ------------------------------------------------------------------------------


def test_another_users_tracker_is_out_of_reach(server, tokens):
    alice = connect(server, tokens["alice"])
    alice.recv_json()
    tracker = alice.request(1, "player.device.register", {"name": "alice-phone"})["result"]["tracker"]
    bob = connect(server, tokens["bob"])
    bob.recv_json()
    attempts = [
        ("tracker.state.get", {"tracker": tracker}),
        ("tracker.subscribe", {"tracker": tracker}),
        ("tracker.subscribe", {"tracker": tracker, "since_version": 0}),
        ("player.volume.set", {"tracker": tracker, "volume": 1}),
        ("player.queue.replace", {"tracker": tracker, "tracks": [1]}),
        ("player.queue.transfer", {"tracker": tracker, "to": tracker}),
        ("tracker.controllers.add", {"tracker": tracker, "user": "bob"}),
        ("player.presence.list", {"tracker": tracker}),
        ("player.queue.take", {"tracker": tracker, "queue": [1], "index": 0, "position_ms": 0, "shuffle": False, "repeat": "off"}),
    ]
    for i, (action, payload) in enumerate(attempts, start=10):
        reply = bob.request(i, action, payload)
        assert reply["ok"] is False and reply["error"]["code"] in ("forbidden", "not_found", "invalid_payload"), (action, reply)
    # Nothing changed, and bob heard nothing of alice's device.
    state = alice.request(2, "tracker.state.get", {"tracker": tracker})["result"]
    assert state["version"] == 1
    assert alice.request(3, "player.volume.set", {"volume": 42})["ok"]
    bob.sock.settimeout(1)
    assert bob.request(99, "system.health.ping")["ok"]
    bob.send_json({"id": 100, "action": "tracker.list"})
    reply = bob.recv_json()
    assert reply["id"] == 100 and tracker not in json.dumps(reply)
    alice.close()
    bob.close()


def test_a_forged_origin_is_refused_at_the_handshake(server, tokens):
    own_host_elsewhere = (f"http://127.0.0.1:{server.port + 1}", f"https://127.0.0.1:{server.port}", "http://127.0.0.1")
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example", "file://", *own_host_elsewhere):
        ws = connect(server, tokens["alice"], Origin=origin)
        assert ws.status == 403, origin
        ws.close()
    ws = connect(server, tokens["alice"], Origin=f"http://127.0.0.1:{server.port}")
    assert ws.status == 101
    ws.close()


@pytest.mark.parametrize("authorization", [None, "Token", "Token ", "Token nope", "Bearer x", "Token " + "a" * 5000])
def test_missing_or_unknown_credentials_are_closed_4401(server, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    ws = connect(server, **headers)
    assert ws.status == 101
    with pytest.raises(ConnectionError):
        ws.recv_json(timeout=10)
    assert ws.close_code == 4401
    ws.close()


def test_a_deleted_token_cannot_connect(server, tokens):
    server.manage("shell", "-c", f"from rest_framework.authtoken.models import Token; Token.objects.filter(key={tokens['gone']!r}).delete()")
    ws = connect(server, tokens["gone"])
    with pytest.raises(ConnectionError):
        ws.recv_json(timeout=10)
    assert ws.close_code == 4401
    ws.close()
