"""Streams against a real daphne bridge: a client that reads nothing is dropped after
``STREAM_STALL_TIMEOUT`` and its file closed; a slow client that keeps reading gets the
whole file intact; stalled readers hold no request thread (the API still answers)."""
from __future__ import annotations

import hashlib
import socket
import time
import urllib.request

import pytest

from devtools.bench.streams import Bridge

SIZE = 16 * 1000 * 1000  # several times what the kernel's socket buffers hold on loopback
STALL = 2.0


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    live = Bridge(tmp_path_factory.mktemp("stream-pacing"), SIZE, stall_timeout=STALL)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def read_response(sock: socket.socket, *, pause: float = 0.0, block: int = 256 * 1024) -> tuple[bytes, bytes]:
    """Headers and body of one response, read ``block`` bytes at a time with ``pause`` between."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    since_pause = 0
    while len(body) < length:
        got = sock.recv(65536)
        if not got:
            break
        body += got
        since_pause += len(got)
        if pause and since_pause >= block:
            time.sleep(pause)
            since_pause = 0
    return head, body


def test_a_reader_that_reads_nothing_is_dropped_and_its_file_closed(bridge):
    clients = [bridge.request() for _ in range(10)]  # more than HTTP_THREADS (8)
    time.sleep(1)
    assert bridge.open_file_count() == 10
    # Stalled streams hold no request thread: the API answers meanwhile.
    request = urllib.request.Request(f"http://127.0.0.1:{bridge.port}/api/v1/tracks/{bridge.track_id}/",
                                     headers={"Authorization": f"Token {bridge.token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    deadline = time.monotonic() + STALL + 10
    while bridge.open_file_count() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert bridge.open_file_count() == 0
    for sock in clients:
        sock.settimeout(5)
        received = 0
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass  # the bridge aborted the connection
        sock.close()
        assert received < SIZE  # cut off, not served
    assert bridge.log().count("dropped a client that read nothing") == 10


def test_a_slow_reader_gets_the_whole_file_intact(bridge):
    expected = hashlib.sha256(bridge.path.read_bytes()).hexdigest()
    sock = bridge.request()
    sock.settimeout(30)
    # About 4 s in all: 60 pauses, each shorter than the stall timeout.
    head, body = read_response(sock, pause=0.06)
    sock.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) == bridge.path.stat().st_size and hashlib.sha256(body).hexdigest() == expected


def test_a_range_is_paced_too(bridge):
    sock = bridge.request("Range: bytes=1000000-\r\n")
    sock.settimeout(30)
    head, body = read_response(sock)
    sock.close()
    assert head.startswith(b"HTTP/1.1 206")
    with open(bridge.path, "rb") as handle:
        handle.seek(1000000)
        assert body == handle.read()
