"""Transcoding over HTTP against bare ffmpeg (``manage.py bench transcode``).

A real daphne bridge in the embedded mode serves a library of one generated file per
sample format plus a long FLAC (``--minutes``, the 1.5 s template looped by ffmpeg). In the
same run, on the same files and with the same ffmpeg and profile, it measures:

- time to the first audio byte, cold (an empty cache each time): the bridge's stream vs
  bare ffmpeg writing to a pipe; p50 and p95, and the ratio (goal: within 1.2x + 20 ms);
- a whole long file over HTTP, cold, vs bare ffmpeg: the rate ratio (goal: at least 0.9x);
- a cache hit vs the original file streamed (both over HTTP): first byte and throughput
  (goal: at least 0.9x);
- concurrent streams of the long file, each read at real time, at rising counts: how many
  all keep up (each reader must have received its audio's worth of bytes every second).

``TranscodeBridge`` (prepare, start, stop) is also what the transcoding tests use.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from devtools.deploy import Deployment, child_env

_ENV_SKIP = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "WORKER_MODE", "SECRET_KEY", "DEBUG",
             "PYTEST_CURRENT_TEST", "TEST_DATA_DIR", "STREAM_X_ACCEL_PREFIX", "FFMPEG")


def system_ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_long_flac(dest: Path, seconds: int, ffmpeg: str | None = None) -> Path:
    """A FLAC of ``seconds`` (the 1.5 s template looped), tagged so the scanner names it."""
    from mutagen.flac import FLAC

    from library.sample import template_path

    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg or system_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", "-1",
                    "-i", str(template_path("flac", 1500)), "-t", str(seconds), "-c:a", "flac", "-y", str(dest)],
                   check=True)
    tags = FLAC(dest)
    tags["title"], tags["artist"], tags["album"] = f"Long {seconds} s", "Bench", "Long files"
    tags.save()
    return dest


class TranscodeBridge(Deployment):
    """One embedded-mode daphne bridge over a library of one file per sample format (and a
    long FLAC of ``long_seconds`` when given), with a user and an API token (``token``);
    ``tracks``: format key -> track id (``"long"`` for the long FLAC)."""

    def __init__(self, workdir: Path, *, long_seconds: int = 0, **settings: str) -> None:
        from library.sample import SAMPLE_FORMATS, make_sample_library

        workdir = Path(workdir)
        env = child_env(_ENV_SKIP, DJANGO_SETTINGS_MODULE="mediaproject.settings", DATA_DIR=str(workdir / "data"),
                        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}", PYTHONUNBUFFERED="1",
                        LOG_LEVEL="DEBUG", TRACKER_LOG_TAIL="0")
        env.update(settings)
        super().__init__(workdir, env, manage_timeout=300)
        self.port = 0
        self.process = None
        music = workdir / "music"
        for key in SAMPLE_FORMATS:
            make_sample_library(music / key, 1, seed=7, formats=[key])
        if long_seconds:
            make_long_flac(music / "long" / "long.flac", long_seconds)
        self.music = music
        self.manage("migrate", "--noinput")
        out = self.manage("shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "from orchestrator import services; from library.models import Track;"
            "user = get_user_model().objects.create_user('listener', password='listener-password');"
            f"library = services.library_add('Music', {str(music)!r}, interval=0);"
            "scan = services.scan_now(library, trigger='command', workers=1);"
            "print('token', Token.objects.create(user=user).key);"
            "[print('track', t.pk, t.path.split('/')[0], t.path) for t in Track.objects.all()]"
        ))
        self.token = out.split("token ")[-1].split()[0]
        self.tracks: dict[str, int] = {}
        self.paths: dict[str, Path] = {}
        for line in out.splitlines():
            if line.startswith("track "):
                _, pk, key, rel = line.split(" ", 3)
                self.tracks[key] = int(pk)
                self.paths[key] = music / rel

    def start(self) -> int:
        self.port = self.start_bridge("daphne")
        self.process = self.processes["daphne"]
        return self.port

    def stop(self, name: str = "daphne", sig: int = signal.SIGTERM) -> None:
        super().stop(name, sig)

    def log(self, name: str = "daphne") -> str:
        return super().log(name)

    def get(self, path: str, headers: dict | None = None, *, timeout: float = 60) -> tuple[int, dict, bytes]:
        """One request on a new connection: status, headers (lower-case names), body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"Authorization": f"Token {self.token}", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def open_stream(self, path: str, headers: dict | None = None, *, timeout: float = 60):
        """A connection and its response with the headers read, the body not yet."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request("GET", path, headers={"Authorization": f"Token {self.token}", **(headers or {})})
        return connection, connection.getresponse()

    def ffmpeg_children(self) -> list[int]:
        """Pids of the bridge's child processes that are ffmpeg (zombies included)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                name = stat[stat.index("(") + 1:stat.rindex(")")]
            except (OSError, ValueError, IndexError):
                continue
            if parent == self.process.pid and "ffmpeg" in name:
                found.append(int(entry.name))
        return found

    def cache_entries(self) -> list[Path]:
        root = Path(self.env["DATA_DIR"]) / "transcode"
        return sorted(p for p in root.glob("*/*") if p.is_file() and ".part-" not in p.name and p.parent.name != "uncached")

    def part_files(self) -> list[Path]:
        root = Path(self.env["DATA_DIR"]) / "transcode"
        return sorted(root.glob("*/*.part-*"))
