"""ffmpeg processes behind a real daphne bridge (at most 3 at once): two readers share one,
a client that disconnects stops its own, a shared one outlives a reader that leaves, the
limit answers 503, a corrupt file a clear error, and no ffmpeg outlives its bridge."""
from __future__ import annotations

import os
import time

import pytest

from .conftest import decode


def wait_until(check, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def gone(pid: int) -> bool:
    """The process ended and was reaped (a zombie still counts as there)."""
    return not os.path.exists(f"/proc/{pid}")


def long_url(bridge, query: str) -> str:
    return f"/api/v1/tracks/{bridge.tracks['long']}/stream?{query}"


def test_two_readers_share_one_ffmpeg_and_get_the_same_bytes(bridge):
    url = long_url(bridge, "format=mp3&max_bitrate=320")
    first_conn, first = bridge.open_stream(url)
    assert first.status == 200 and first.headers["X-Transcode-Cache"] == "miss"
    head = first.read(4096)
    second_conn, second = bridge.open_stream(url)
    assert second.status == 200 and second.headers["X-Transcode-Cache"] == "shared"
    assert len(bridge.ffmpeg_children()) == 1
    body_one, body_two = head + first.read(), second.read()
    first_conn.close()
    second_conn.close()
    assert len(body_one) > 1_000_000 and body_one == body_two
    assert wait_until(lambda: not bridge.ffmpeg_children())
    entries = [entry for entry in bridge.cache_entries() if entry.suffix == ".mp3"]
    assert len(entries) == 1 and entries[0].read_bytes() == body_one
    status, headers, body = bridge.get(url)
    assert headers["x-transcode-cache"] == "hit" and body == body_one


def test_a_client_that_disconnects_stops_its_ffmpeg_and_leaves_no_entry(bridge):
    url = long_url(bridge, "format=aac&max_bitrate=96")
    connection, response = bridge.open_stream(url)
    assert response.status == 200 and response.read(1024)
    pids = bridge.ffmpeg_children()
    assert len(pids) == 1
    connection.close()
    assert wait_until(lambda: gone(pids[0]), 5), "ffmpeg still runs after its only client left"
    assert wait_until(lambda: not bridge.part_files(), 5)
    assert not [entry for entry in bridge.cache_entries() if entry.suffix == ".aac"]
    assert "no reader left" in bridge.log()
    connection, response = bridge.open_stream(url)  # never served as complete: a new transcode
    assert response.headers["X-Transcode-Cache"] == "miss"
    connection.close()
    assert wait_until(lambda: not bridge.ffmpeg_children(), 5)


def test_a_shared_ffmpeg_outlives_a_reader_that_leaves(bridge):
    url = long_url(bridge, "format=opus&max_bitrate=64")
    leaving_conn, leaving = bridge.open_stream(url)
    leaving.read(1024)
    staying_conn, staying = bridge.open_stream(url)
    assert staying.headers["X-Transcode-Cache"] == "shared"
    leaving_conn.close()
    time.sleep(0.5)
    assert len(bridge.ffmpeg_children()) == 1
    body = staying.read()
    staying_conn.close()
    assert abs(decode(body).seconds - 600) < 0.1


def test_beyond_the_limit_a_request_waits_then_gets_503_with_retry_after(bridge):
    # AAC: the slowest encoder, so the three are still running when the fourth asks
    held = [bridge.open_stream(long_url(bridge, f"format=aac&max_bitrate={rate}")) for rate in (96, 128, 192)]
    for _, response in held:
        assert response.status == 200 and response.headers["X-Transcode-Cache"] == "miss"
    assert len(bridge.ffmpeg_children()) == 3
    started = time.monotonic()
    status, headers, body = bridge.get(long_url(bridge, "format=aac&max_bitrate=256"))
    waited = time.monotonic() - started
    for connection, _ in held:
        connection.close()
    assert status == 503, (headers, time.monotonic() - started)
    assert status == 503 and headers["retry-after"] == "5" and b'"unavailable"' in body
    assert waited >= 0.9  # TRANSCODE_QUEUE_SECONDS
    assert wait_until(lambda: not bridge.ffmpeg_children(), 5)
    status, headers, _ = bridge.get(f"/api/v1/tracks/{bridge.tracks['flac']}/stream?format=opus&max_bitrate=256")
    assert status == 200  # slots are given back


def test_a_corrupt_file_gets_a_clear_error_not_a_hang(bridge):
    path = bridge.paths["aiff"]
    stat = path.stat()
    path.write_bytes(os.urandom(stat.st_size))
    started = time.monotonic()
    status, headers, body = bridge.get(f"/api/v1/tracks/{bridge.tracks['aiff']}/stream?format=mp3", timeout=40)
    assert status == 500 and b"could not be transcoded" in body, body
    assert time.monotonic() - started < 10
    assert not bridge.ffmpeg_children() and not bridge.part_files()
    assert "ffmpeg failed on track file" in bridge.log()


def test_ffmpeg_starts_at_the_bridges_priority_and_is_niced_after_its_head_start(bridge):
    """A new stream's first seconds are written at normal priority; the rest of the entry in
    the background, below the bridge (bench transcode: starts took seconds under load)."""
    from bridge.transcode.cache import FFMPEG_NICENESS

    connection, response = bridge.open_stream(long_url(bridge, "format=mp3&max_bitrate=256"))
    try:
        assert response.read(1024)
        [pid] = bridge.ffmpeg_children()
        head_start = 256 * 1000 // 8 * int(bridge.env["TRANSCODE_HEAD_START_SECONDS"])
        samples = []  # (niceness, bytes written), the niceness read first
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (samples and samples[-1][0] == FFMPEG_NICENESS):
            try:
                niceness = os.getpriority(os.PRIO_PROCESS, pid)
            except OSError:
                break
            samples.append((niceness, sum(p.stat().st_size for p in bridge.part_files() if p.exists())))
        assert samples[-1][0] == FFMPEG_NICENESS, samples[-5:]
        assert all(written >= head_start for niceness, written in samples if niceness == FFMPEG_NICENESS)
        assert {niceness for niceness, _ in samples} == {0, FFMPEG_NICENESS}
        assert os.getpriority(os.PRIO_PROCESS, bridge.process.pid) == 0
    finally:
        connection.close()
        wait_until(lambda: not bridge.ffmpeg_children(), 5)


def test_ffmpeg_stderr_goes_to_the_log_at_debug(bridge):
    assert "DEBUG bridge.transcode.cache ffmpeg for" in bridge.log()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_no_ffmpeg_outlives_its_bridge(bridge, stop):
    import signal

    connection, response = bridge.open_stream(long_url(bridge, f"format=mp3&max_bitrate={96 if stop == 'SIGTERM' else 128}"))
    assert response.read(1024)
    pids = bridge.ffmpeg_children()
    assert len(pids) == 1
    bridge.stop(sig=getattr(signal, stop))
    connection.close()
    try:
        assert wait_until(lambda: gone(pids[0]), 10), f"ffmpeg {pids[0]} outlived its bridge ({stop})"
    finally:
        bridge.start()
