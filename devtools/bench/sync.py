"""Party sync and hand-off in Chromium (``manage.py bench sync``): the figures of issue 18.

A real daphne bridge in the embedded mode serves an album of ``--track-seconds`` WAV
tracks; Playwright drives Debian's Chromium (``--chromium``) with several pages, each
sampling its audio element onto one clock (``devtools.syncprobe``, the same scenarios as
``tests/ui/test_sync.py``):

- a party of a host, a guest whose clock runs 500 ms fast and a guest behind
  ``--latency-ms`` of network latency (half each way, through a TCP proxy): whether
  starting the party interrupted the host, the steady spread, how long each disturbance
  took to come back within 50 ms (joining with the skewed clock, a 700 ms stall, a track
  change on the slow network), what a track's end lost, how far apart the next track
  started;
- a hand-off between two devices of one user: the music skipped (negative: heard twice),
  and whether a paused hand-off stays paused where it was;
- one device alone: what a track's end and the next one's beginning lost.

Printed next to each goal, with the baseline of the same run: the probe's own noise
(one playing page's position against the clock, p95), below which nothing is measurable.
"""
from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

from devtools.deploy import EmbeddedServer
from devtools.syncprobe import (
    RECORDER,
    LatencyProxy,
    handoff_scenario,
    login,
    now,
    p95,
    party_scenario,
    play_track,
    solo_scenario,
    trace,
    write_album,
)

PASSWORD = "bench-sync-password-1"
ALBUM = "Slow Hours"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
GOALS = [  # figure, goal, comparison
    ("steady_spread_p95_ms", 30, "<"),
    ("skew_converged_ms", 3000, "<"),
    ("stall_converged_ms", 3000, "<"),
    ("latency_converged_ms", 3000, "<"),
    ("end_cut_max_ms", 1, "<"),
    ("solo_end_cut_ms", 1, "<"),
    ("handoff_skip_ms", 30, "|<|"),
]


def add_arguments(parser) -> None:
    parser.add_argument("--chromium", default=os.environ.get("UI_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--latency-ms", type=float, default=150, help="the slow guest's network latency, round trip (default 150)")
    parser.add_argument("--track-seconds", type=int, default=60, help="length of each track (default 60)")
    parser.add_argument("--steady-seconds", type=float, default=8, help="how long the steady spread is sampled (default 8)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the scenarios (default 1)")


class SyncServer(EmbeddedServer):
    """The embedded server with users alice, bob, carol, dana and an album of long tracks."""

    def prepare(self, track_seconds: int) -> "SyncServer":
        music = self.workdir / "music"
        write_album(music / "Long Player" / ALBUM, "Long Player", ALBUM, track_seconds, 3, title="Hour")
        self.start()  # migrates
        self.stop()
        users = "; ".join(f"User.objects.create_user({name!r}, password={PASSWORD!r})" for name in ("alice", "bob", "carol", "dana"))
        self.manage("shell", "-c", f"from django.contrib.auth.models import User; {users}")
        self.manage("library", "add", "--name", "Music", "--interval", "0", str(music))
        self.manage("scan")
        self.start()
        return self


def probe_noise(open_page, base_url: str) -> float:
    """p95 of one playing page's position against the clock around a straight line (ms)."""
    page = open_page("alice", base_url, "")
    play_track(page, ALBUM, "Hour 3")
    time.sleep(1.0)
    start = now(page)
    time.sleep(3.0)
    samples = [s for s in trace(page, start) if not s.paused]
    n = len(samples)
    mean_t = sum(s.t for s in samples) / n
    mean_p = sum(s.pos for s in samples) / n
    slope = sum((s.t - mean_t) * (s.pos - mean_p) for s in samples) / sum((s.t - mean_t) ** 2 for s in samples)
    residuals = [abs(s.pos - (mean_p + slope * (s.t - mean_t))) for s in samples]
    page.evaluate("() => document.getElementById('pb-play').click()")
    return p95(residuals)


def run(options: dict, out) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp, sync_playwright() as playwright:
        server = SyncServer(Path(tmp)).prepare(options["track_seconds"])
        browser = playwright.chromium.launch(executable_path=options["chromium"], headless=True, args=CHROMIUM_ARGS)
        contexts = []

        def open_page(username, base_url, init_script, device=None):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(15000)
            contexts.append(context)
            if device:
                context.add_init_script(f"if (!localStorage.getItem('deviceName')) localStorage.setItem('deviceName', {device!r});")
            context.add_init_script(RECORDER)
            if init_script:
                context.add_init_script(init_script)
            page = context.new_page()
            login(page, base_url, username, PASSWORD)
            return page

        def close_pages():
            for context in contexts:
                context.close()
            contexts.clear()

        try:
            out.write(f"Chromium {browser.version}, tracks of {options['track_seconds']} s, "
                      f"slow guest at {options['latency_ms']:.0f} ms latency ({options['latency_ms'] / 2:.0f} ms each way)\n")
            noise = probe_noise(open_page, server.url("").rstrip("/"))
            close_pages()
            out.write(f"baseline: probe noise (one page against the clock, p95) {noise:.1f} ms\n")
            for run_number in range(1, options["runs"] + 1):
                with LatencyProxy(server.port, options["latency_ms"] / 2) as proxy:
                    figures = party_scenario(open_page, server.url("").rstrip("/"), f"http://127.0.0.1:{proxy.port}",
                                             album=ALBUM, first="Hour 1", duration_s=options["track_seconds"],
                                             steady_s=options["steady_seconds"])
                close_pages()
                figures.update(handoff_scenario(open_page, server.url("").rstrip("/"), album=ALBUM, first="Hour 1"))
                close_pages()
                figures.update(solo_scenario(open_page, server.url("").rstrip("/"), album=ALBUM, first="Hour 2",
                                             duration_s=options["track_seconds"]))
                close_pages()
                out.write(f"\nrun {run_number}\n")
                for key, value in figures.items():
                    goal = next(((g, cmp) for name, g, cmp in GOALS if name == key), None)
                    verdict = ""
                    if goal is not None:
                        limit, cmp = goal
                        met = abs(value) < limit if cmp == "|<|" else value < limit
                        verdict = f"  goal {'|x|' if cmp == '|<|' else ''}< {limit} ms: {'met' if met else 'NOT met'}"
                    shown = "never" if math.isinf(value) else f"{value:8.1f}"
                    out.write(f"  {key:30s} {shown}{verdict}\n")
        finally:
            close_pages()
            browser.close()
            server.close()
