"""A transcoded stream is paced like any other (``mediaproject.http``): a client that reads
nothing is dropped after ``STREAM_STALL_TIMEOUT`` and, being the only reader, its ffmpeg is
stopped; the entry is not kept."""
from __future__ import annotations

import socket
import time

import pytest

from devtools.bench.transcode import system_ffmpeg

from .conftest import running

STALL = 2.0


@pytest.fixture(scope="module")
def stalling_bridge(tmp_path_factory):
    with running(tmp_path_factory.mktemp("transcode-pacing"), long_seconds=600, FFMPEG=system_ffmpeg(),
                 STREAM_STALL_TIMEOUT=str(STALL)) as live:
        yield live


def test_a_stalled_reader_of_a_transcode_is_dropped_and_its_ffmpeg_stopped(stalling_bridge):
    bridge = stalling_bridge
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", bridge.port))
    sock.sendall((f"GET /api/v1/tracks/{bridge.tracks['long']}/stream?format=aac&max_bitrate=256 HTTP/1.1\r\n"
                  f"Host: 127.0.0.1\r\nAuthorization: Token {bridge.token}\r\n\r\n").encode())
    deadline = time.monotonic() + 10
    while not bridge.ffmpeg_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = bridge.ffmpeg_children()
    assert len(pids) == 1
    deadline = time.monotonic() + STALL + 20
    while "dropped a client that read nothing" not in bridge.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "dropped a client that read nothing" in bridge.log()
    deadline = time.monotonic() + 5
    while bridge.ffmpeg_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not bridge.ffmpeg_children(), "ffmpeg still runs after its only reader was dropped"
    assert not [entry for entry in bridge.cache_entries() if entry.suffix == ".aac"] and not bridge.part_files()
    sock.close()
