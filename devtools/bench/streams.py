"""Stalled stream readers (``manage.py bench streams``): a bridge's memory while clients
request a big file and read nothing.

A real daphne bridge in the embedded mode (a temporary data folder, SQLite) serves a
generated WAV of ``--size-mb`` MB (the tone template repeated, scanned into a library).
``--clients`` raw HTTP clients (receive buffer ``CLIENT_RCVBUF`` bytes) request its stream
with an API token and read nothing. Printed: the bridge's resident memory idle (after one
warm-up request: the baseline) and its peak while the readers are stalled, the growth per
reader, and how long until the bridge dropped them (``--stall-timeout``, the bridge's
``STREAM_STALL_TIMEOUT``) and had closed the file. Without back-pressure the growth is
about the file's size per reader, less what the kernel's socket buffers hold.

``Bridge`` (start a prepared bridge, stop it) is also what the streaming tests use.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

from devtools.deploy import Deployment, child_env

CLIENT_RCVBUF = 16 * 1024
_ENV_SKIP = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "WORKER_MODE", "SECRET_KEY", "DEBUG",
             "PYTEST_CURRENT_TEST", "TEST_DATA_DIR", "STREAM_X_ACCEL_PREFIX")


class Bridge(Deployment):
    """One embedded-mode daphne bridge in ``workdir`` serving one generated WAV of
    ``size_bytes`` to a user with an API token (``token``, ``track_id``, ``path``)."""

    def __init__(self, workdir: Path, size_bytes: int, *, stall_timeout: float = 60) -> None:
        from library.sample import make_long_wav

        workdir = Path(workdir)
        super().__init__(workdir, child_env(
            _ENV_SKIP, DJANGO_SETTINGS_MODULE="mediaproject.settings", DATA_DIR=str(workdir / "data"),
            DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}", PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO", STREAM_STALL_TIMEOUT=str(stall_timeout)), manage_timeout=300)
        self.port = 0
        self.process = None
        self.path = make_long_wav(self.workdir / "music" / "long.wav", size_bytes)
        self.manage("migrate", "--noinput")
        self.token, self.track_id = self.manage("shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "from orchestrator import services; from library.models import Track;"
            "user = get_user_model().objects.create_user('listener', password='listener-password');"
            f"library = services.library_add('Music', {str(self.path.parent)!r}, interval=0);"
            "scan = services.scan_now(library, trigger='command', workers=1);"
            "print('token', Token.objects.create(user=user).key, Track.objects.get().pk)"
        )).split("token ")[-1].split()

    def log(self, name: str = "daphne") -> str:
        return super().log(name)

    def start(self) -> None:
        self.port = self.start_bridge("daphne")
        self.process = self.processes["daphne"]

    def stop(self, name: str = "daphne", sig: int = signal.SIGTERM) -> None:
        super().stop(name, sig)

    def request(self, extra_headers: str = "", *, rcvbuf: int | None = CLIENT_RCVBUF) -> socket.socket:
        """A connected socket that has sent ``GET`` for the track's stream (and read nothing)."""
        sock = socket.socket()
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connecting: the window
        sock.connect(("127.0.0.1", self.port))
        sock.sendall((f"GET /api/v1/tracks/{self.track_id}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Token {self.token}\r\n{extra_headers}\r\n").encode())
        return sock

    def rss_bytes(self) -> int:
        """The bridge's resident memory (``VmRSS``)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def open_file_count(self) -> int:
        """How many of the bridge's descriptors hold the WAV open."""
        fds = Path(f"/proc/{self.process.pid}/fd")
        count = 0
        for fd in fds.iterdir():
            try:
                count += os.readlink(fd) == str(self.path)
            except OSError:
                pass
        return count


def add_arguments(parser) -> None:
    parser.add_argument("--clients", type=int, default=20, help="stalled readers (default 20)")
    parser.add_argument("--size-mb", type=int, default=150, help="size of the streamed file in MB (default 150)")
    parser.add_argument("--seconds", type=float, default=8, help="how long the readers stay stalled while RSS is sampled")
    parser.add_argument("--stall-timeout", type=float, default=20, help="the bridge's STREAM_STALL_TIMEOUT (default 20)")


def run(options: dict, out) -> None:
    mib = 1024 * 1024
    workdir = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    bridge = Bridge(workdir, options["size_mb"] * 1000 * 1000, stall_timeout=options["stall_timeout"])
    try:
        bridge.start()
        warm = bridge.request("Range: bytes=0-65535\r\nConnection: close\r\n", rcvbuf=None)
        while warm.recv(65536):
            pass
        warm.close()
        time.sleep(1)
        idle = bridge.rss_bytes()
        out.write(f"bridge idle (baseline): {idle / mib:.1f} MiB RSS; file {bridge.path.stat().st_size / mib:.0f} MiB\n")
        started = time.monotonic()
        clients = [bridge.request() for _ in range(options["clients"])]
        peak = idle
        while time.monotonic() - started < options["seconds"]:
            peak = max(peak, bridge.rss_bytes())
            time.sleep(0.2)
        growth = peak - idle
        out.write(f"{len(clients)} stalled readers: peak {peak / mib:.1f} MiB RSS, growth {growth / mib:.1f} MiB "
                  f"({growth / len(clients) / mib:.2f} MiB per reader); goal: growth under 50 MiB\n")
        deadline = started + options["stall_timeout"] + 30
        while bridge.open_file_count() and time.monotonic() < deadline:
            time.sleep(0.2)
        left = bridge.open_file_count()
        out.write(f"after {time.monotonic() - started:.1f} s (STREAM_STALL_TIMEOUT {options['stall_timeout']:g} s): "
                  f"{left} of {len(clients)} responses still hold the file open; RSS {bridge.rss_bytes() / mib:.1f} MiB\n")
        for sock in clients:
            sock.close()
    finally:
        bridge.stop()
        shutil.rmtree(workdir, ignore_errors=True)
