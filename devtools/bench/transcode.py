"""Transcoding over HTTP against bare ffmpeg (``manage.py bench transcode``).

A real daphne bridge in the embedded mode serves a library of one generated file per
sample format plus a long FLAC (``--minutes``, the 1.5 s template looped by ffmpeg). In the
same run, on the same files and with the same ffmpeg and profile, it measures:

- time to the first audio byte, cold (an empty cache each time): the bridge's stream vs
  bare ffmpeg writing to a pipe; p50 and p95, and the ratio (goal: within 1.2x + 20 ms);
- a whole long file over HTTP, cold, vs bare ffmpeg: the rate ratio (goal: at least 0.9x);
- a cache hit vs the original file streamed (both over HTTP): first byte and throughput
  (goal: at least 0.9x);
- concurrent players of the long file, each its own ffmpeg, at rising counts, over HTTP and
  from bare ffmpeg processes: each reads ahead up to ``--read-ahead`` seconds, starts
  playing with one second of audio and plays at real time; how many never run dry
  (``devtools.bench.realtime``). Over HTTP the bridge's ffmpeg writes its cache entry at
  full speed whatever the reader's pace, while a bare ffmpeg waits on its full pipe: the
  bridge does the whole transcode up front, the baseline only what has been read.

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
import time
from pathlib import Path

from devtools.bench import realtime
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


# -- the benchmark --------------------------------------------------------------------------

PROFILE = "opus-128"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def bare_ffmpeg(binary: str, source: Path, *, whole: bool) -> tuple[float, float, int]:
    """Bare ffmpeg writing ``PROFILE`` of ``source`` to a pipe: (seconds to the first byte,
    seconds to the end or 0, bytes)."""
    from bridge.transcode.cache import ffmpeg_command
    from bridge.transcode.profiles import profile

    started = time.perf_counter()
    process = subprocess.Popen(ffmpeg_command(binary, source, profile(PROFILE)), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    first = process.stdout.read(65536)
    ttfb = time.perf_counter() - started
    total = len(first)
    if whole:
        while chunk := process.stdout.read(1 << 20):
            total += len(chunk)
    else:
        process.kill()
    process.stdout.close()
    process.wait()
    return ttfb, (time.perf_counter() - started) if whole else 0.0, total


def http_stream(bridge: TranscodeBridge, path: str, *, whole: bool) -> tuple[float, float, int]:
    """The same over HTTP: (seconds to the first body byte, to the end or 0, body bytes)."""
    import socket

    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", bridge.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {bridge.token}\r\n"
                 f"Connection: close\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError(f"no answer for {path}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    while not body:
        body = sock.recv(65536)
    ttfb = time.perf_counter() - started
    total = len(body)
    if whole:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    sock.close()
    return ttfb, (time.perf_counter() - started) if whole else 0.0, total


def _touch(path: Path) -> None:
    """A new mtime: the next request's cache key is new (a cold transcode)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def _realtime_streams(bridge: TranscodeBridge, binary: str, count: int, options: dict, *, bare: bool) -> realtime.Outcome:
    """``count`` players of the long file at once, each its own ffmpeg (a distinct offset:
    nothing is cached or shared), over HTTP or (``bare``) from ffmpeg's pipe."""
    from bridge.transcode.cache import ffmpeg_command
    from bridge.transcode.profiles import profile

    if bare:
        def open_stream(index: int) -> realtime.Stream:
            return realtime.pipe_stream(ffmpeg_command(binary, bridge.paths["long"], profile(PROFILE), index + 1))
    else:
        def open_stream(index: int) -> realtime.Stream:
            return realtime.http_stream(bridge.port, f"/api/v1/tracks/{bridge.tracks['long']}/stream?format=opus"
                                        f"&max_bitrate=128&offset_ms={index + 1}", bridge.token)
    return realtime.play(open_stream, count, options["stream_seconds"], options["read_ahead"], options["arrivals"])


def add_arguments(parser) -> None:
    parser.add_argument("--rounds", type=int, default=10, help="cold requests per source file (default 10)")
    parser.add_argument("--minutes", type=float, default=5, help="length of the long FLAC (default 5)")
    parser.add_argument("--streams", default="100,200,300", help="concurrent real-time stream counts to try")
    parser.add_argument("--stream-seconds", type=float, default=20, help="how long the streams are played (default 20)")
    parser.add_argument("--read-ahead", type=float, default=10,
                        help="seconds of audio a player reads beyond what it has played (default 10)")
    parser.add_argument("--arrivals", type=float, default=5,
                        help="players starting a second (default 5; 0: all at once)")


def run(options: dict, out) -> None:
    from library.sample import SAMPLE_FORMATS

    workdir = Path(tempfile.mkdtemp(prefix="bench-transcode-"))
    binary = system_ffmpeg()
    long_seconds = int(options["minutes"] * 60)
    bridge = TranscodeBridge(workdir, long_seconds=long_seconds, FFMPEG=binary, LOG_LEVEL="WARNING",
                             TRANSCODE_MAX_PROCESSES="1000", TRANSCODE_QUEUE_SECONDS="30", HTTP_THREADS="32",
                             TRANSCODE_CACHE_MB="4096")
    try:
        bridge.start()
        out.write(f"ffmpeg {binary}; profile {PROFILE}; sources: one file per sample format and a "
                  f"{long_seconds} s FLAC; {options['rounds']} cold rounds each\n")
        sources = [*SAMPLE_FORMATS, "long"]
        bare, http = [], []
        for _ in range(options["rounds"]):
            for key in sources:
                path = bridge.paths[key]
                bare.append(bare_ffmpeg(binary, path, whole=False)[0])
                _touch(path)
                http.append(http_stream(bridge, f"/api/v1/tracks/{bridge.tracks[key]}/stream?format=opus&max_bitrate=128",
                                        whole=False)[0])
        for label, fraction in (("p50", 0.5), ("p95", 0.95)):
            b, h = _percentile(bare, fraction) * 1000, _percentile(http, fraction) * 1000
            out.write(f"time to first byte, cold, {label}: bare ffmpeg {b:.1f} ms, HTTP {h:.1f} ms: {h / b:.2f}x "
                      f"(goal: within 1.2x + 20 ms = {1.2 * b + 20:.1f} ms)\n")

        long_path = bridge.paths["long"]
        bare_rates, http_rates = [], []
        for _ in range(3):
            _, seconds, size = bare_ffmpeg(binary, long_path, whole=True)
            bare_rates.append(size / seconds)
            _touch(long_path)
            _, seconds, size = http_stream(bridge, f"/api/v1/tracks/{bridge.tracks['long']}/stream?format=opus&max_bitrate=128",
                                           whole=True)
            http_rates.append(size / seconds)
        b, h = statistics.median(bare_rates), statistics.median(http_rates)
        out.write(f"whole {long_seconds} s file, cold (median of 3): bare ffmpeg {b / 1e6:.2f} MB/s "
                  f"({long_seconds * 128 / 8 / 1000 / (b / 1e6):.2f} s), HTTP {h / 1e6:.2f} MB/s: {h / b:.2f}x (goal >= 0.9x)\n")

        hit_url = f"/api/v1/tracks/{bridge.tracks['long']}/stream?format=opus&max_bitrate=128"
        original_url = f"/api/v1/tracks/{bridge.tracks['long']}/stream"
        http_stream(bridge, hit_url, whole=True)  # now cached
        hit_ttfb, orig_ttfb, hit_rate, orig_rate = [], [], [], []
        for _ in range(max(5, options["rounds"])):
            ttfb, seconds, size = http_stream(bridge, hit_url, whole=True)
            hit_ttfb.append(ttfb)
            hit_rate.append(size / seconds)
            ttfb, seconds, size = http_stream(bridge, original_url, whole=True)
            orig_ttfb.append(ttfb)
            orig_rate.append(size / seconds)
        ho, oo = statistics.median(hit_ttfb) * 1000, statistics.median(orig_ttfb) * 1000
        hr, orr = statistics.median(hit_rate), statistics.median(orig_rate)
        out.write(f"cache hit vs the original file (medians): first byte {ho:.2f} vs {oo:.2f} ms ({oo / ho:.2f}x as fast), "
                  f"throughput {hr / 1e6:.1f} vs {orr / 1e6:.1f} MB/s ({hr / orr:.2f}x) (goal >= 0.9x)\n")

        out.write(f"real-time players of the {long_seconds} s file, each its own ffmpeg, {options['arrivals']:g} "
                  f"starting a second, played until the last has played {options['stream_seconds']:g} s, reading up "
                  f"to {options['read_ahead']:g} s ahead (the bridge's process limit lifted; by default "
                  f"TRANSCODE_MAX_PROCESSES queues the rest):\n")
        for count in [int(n) for n in options["streams"].split(",") if n.strip()]:
            line = []
            for label, bare in (("bare ffmpeg", True), ("HTTP", False)):
                outcome = _realtime_streams(bridge, binary, count, options, bare=bare)
                failed = f", {len(outcome.failures)} failed ({outcome.failures[0]})" if outcome.failures else ""
                line.append(f"{label} {outcome.held} held (worst fell {outcome.worst_shortfall:.2f} s behind, "
                            f"start p95 {outcome.start_p95:.2f} s{failed})")
                time.sleep(2)  # let the previous round's processes end
            out.write(f"  {count} at once: {'; '.join(line)}\n")
    finally:
        bridge.stop()
        shutil.rmtree(workdir, ignore_errors=True)
