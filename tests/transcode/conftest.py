"""Fixtures for the transcoding tests: real daphne bridges (``TranscodeBridge``) over files
from the sample generator, and ``decode``, which reads a file back with ffmpeg."""
from __future__ import annotations

import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.bench.transcode import TranscodeBridge, system_ffmpeg

DECODE_RATE = 48000


def imageio_ffmpeg_path() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class Decoded:
    codec: str
    seconds: float  # from the decoded samples
    stderr: str


def decode(source: Path | bytes, ffmpeg: str | None = None) -> Decoded:
    """Decode a file (a path, or its bytes) to PCM with ffmpeg: its codec and exact duration."""
    ffmpeg = ffmpeg or system_ffmpeg()
    command = [ffmpeg, "-hide_banner", "-nostdin", "-i", "pipe:0" if isinstance(source, bytes) else f"file:{source}",
               "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", str(DECODE_RATE), "pipe:1"]
    done = subprocess.run(command, input=source if isinstance(source, bytes) else None, capture_output=True,
                          timeout=60)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 0, stderr[-2000:]
    match = re.search(r"Stream #0:\d+.*?: Audio: (\w+)", stderr)
    return Decoded(match.group(1) if match else "", len(done.stdout) / 2 / DECODE_RATE, stderr)


@contextmanager
def running(workdir: Path, **kwargs):
    """A ``TranscodeBridge`` started, and stopped and cleaned up afterwards."""
    live = TranscodeBridge(workdir, **kwargs)
    live.start()
    try:
        yield live
    finally:
        live.stop()
        live.close()


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    """A bridge with the system's ffmpeg over one file per sample format and a 10-minute FLAC
    (each ffmpeg's head start at normal priority a minute of audio: long enough to be seen)."""
    with running(tmp_path_factory.mktemp("transcode"), long_seconds=600, FFMPEG=system_ffmpeg(),
                 TRANSCODE_MAX_PROCESSES="3", TRANSCODE_QUEUE_SECONDS="1", TRANSCODE_HEAD_START_SECONDS="60") as live:
        yield live
