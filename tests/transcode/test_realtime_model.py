"""The real-time players of ``bench transcode`` count audio right: seconds from Ogg
packets equal the decoded duration, however the bytes are split, through the
chunked transfer coding, and a stream whose source is slower than real time is found dry."""
from __future__ import annotations

import random
import subprocess
import sys

from bridge.transcode.cache import ffmpeg_command
from bridge.transcode.profiles import profile
from devtools.bench import realtime
from devtools.bench.transcode import make_long_flac, system_ffmpeg
from tests.transcode.conftest import decode


def _opus(tmp_path, seconds: int) -> bytes:
    source = make_long_flac(tmp_path / "long.flac", seconds)
    done = subprocess.run(ffmpeg_command(system_ffmpeg(), source, profile("opus-128")), capture_output=True,
                          timeout=120, check=True)
    return done.stdout


def _pieces(data: bytes, rng: random.Random):
    at = 0
    while at < len(data):
        size = rng.choice((1, 3, 27, 100, 4096, 70000))
        yield data[at:at + size]
        at += size


def test_ogg_clock_counts_the_decoded_duration_however_split(tmp_path):
    data = _opus(tmp_path, 20)
    expected = decode(data).seconds
    rng = random.Random(5)
    clock = realtime.OggClock()
    half = len(data) // 2
    for piece in _pieces(data[:half], rng):
        clock.feed(piece)
    # Packet by packet, not page by page (a page of ffmpeg's holds seconds of audio).
    assert abs(clock.seconds - expected / 2) < 0.2, (clock.seconds, expected)
    for piece in _pieces(data[half:], rng):
        clock.feed(piece)
    assert abs(clock.seconds - expected) < 0.03, (clock.seconds, expected)
    assert clock.pre_skip > 0


def test_dechunk_undoes_chunked_coding_split_anywhere(tmp_path):
    data = _opus(tmp_path, 5)
    rng = random.Random(9)
    coded = bytearray()
    for piece in _pieces(data, rng):
        coded += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    coded += b"0\r\n\r\n"
    dechunk, out = realtime.Dechunk(), bytearray()
    for piece in _pieces(bytes(coded), rng):
        out += dechunk.feed(piece)
    assert bytes(out) == data
    assert dechunk.done


def _slow_source(tmp_path, rate: float) -> list[str]:
    """A pipe that writes a real Opus file at ``rate`` times real time."""
    path = tmp_path / "song.opus"
    path.write_bytes(_opus(tmp_path, 12))
    script = ("import sys, time\n"
              f"data = open({str(path)!r}, 'rb').read(); step = 16128\n"
              f"for at in range(0, len(data), step):\n"
              f"    sys.stdout.buffer.write(data[at:at + step]); sys.stdout.buffer.flush(); time.sleep(1 / {rate})\n")
    return [sys.executable, "-c", script]


def test_a_source_slower_than_real_time_is_found_dry_and_a_faster_one_holds(tmp_path):
    slow = realtime.play(lambda i: realtime.pipe_stream(_slow_source(tmp_path, 0.5)), 2, 6, read_ahead=10)
    fast = realtime.play(lambda i: realtime.pipe_stream(_slow_source(tmp_path, 3)), 3, 5, read_ahead=10, arrivals=2)
    assert slow.started == 2 and slow.held == 0 and slow.worst_shortfall > 0.4, slow
    assert fast.started == 3 and fast.held == 3 and fast.worst_shortfall == 0, fast


def test_read_ahead_is_bounded(tmp_path):
    """A player stops reading once it holds ``read_ahead`` seconds more than it has played."""
    command = _slow_source(tmp_path, 50)
    seen = []

    def open_stream(index):
        stream = realtime.pipe_stream(command)
        seen.append(stream)
        return stream

    realtime.play(open_stream, 1, 2, read_ahead=3)
    stream = seen[0]
    played = 2 - (stream.playing_at - stream.started)
    assert played + 2 < stream.clock.seconds <= played + 3 + 1.2, (stream.clock.seconds, played)
