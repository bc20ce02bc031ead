"""The project's HTTP handler against Django's own (``manage.py bench handler``).

Two daphne servers on one throwaway SQLite database (a catalogue built by ``bench api
--build``): one serving ``mediaproject.asgi.application`` as it is
(``mediaproject.http.ThreadPoolASGIHandler``), one the same application with Django's
``ASGIHandler`` in its place. Each gets the same requests over one HTTP/1.1 keep-alive
connection, one at a time: an album's detail with a token (a cheap view: authentication,
a few queries) and an unknown URL (a 404: no view, no query). Each request goes to both
servers back to back (which one first alternates), so a change in the machine's load hits
both alike; p50 and p95 of each.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import time
from typing import Any

from devtools import deploy
from devtools.bench.api import FLOOR_URL
from devtools.stats import percentile

WARMUP = 50
# The application with Django's own handler: ``mediaproject.asgi`` reads
# ``get_asgi_application`` from ``mediaproject.http`` when it is imported.
DJANGO_APP = """\
import django
from django.core.handlers.asgi import ASGIHandler

import mediaproject.http


def get_asgi_application():
    django.setup(set_prefix=False)
    return ASGIHandler()


mediaproject.http.get_asgi_application = get_asgi_application

from mediaproject.asgi import application  # noqa: E402
"""
HANDLERS = {"project (ThreadPoolASGIHandler)": "mediaproject.asgi:application",
            "Django (ASGIHandler)": "bench_django_asgi:application"}


def add_arguments(parser) -> None:
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per URL and handler (default 2000)")
    parser.add_argument("--tracks", type=int, default=2000, help="catalogue size in tracks (default 2000)")


class Connection:
    """One keep-alive HTTP/1.1 connection to a server, sending the token."""

    def __init__(self, port: int, token: str) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def get(self, url: str, status: int) -> float:
        """Milliseconds for one request."""
        started = time.perf_counter()
        self.http.request("GET", url, headers=self.headers)
        response = self.http.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status == status, (url, response.status)
        return elapsed


def run(options: dict[str, Any], out) -> None:
    deployment = deploy.sqlite_deployment("SQLite (embedded mode)", prefix="bench-handler-")
    (deployment.workdir / "bench_django_asgi.py").write_text(DJANGO_APP)
    deployment.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(deployment.workdir),
                                                                 deployment.env.get("PYTHONPATH", "")]))
    try:
        deployment.manage("migrate", "--noinput")
        built = deployment.manage("bench", "api", "--build", "--tracks", str(options["tracks"]))
        info = json.loads(built.strip().splitlines()[-1])
        servers = {label: Connection(deployment.start_bridge(f"bridge-{number}", app=app), info["token"])
                   for number, (label, app) in enumerate(HANDLERS.items())}
        rng = random.Random(1)
        kinds = {"album detail": lambda: (f"/api/v1/albums/{rng.randint(*info['albums'])}/", 200),
                 "no view (404)": lambda: (FLOOR_URL, 404)}
        results: dict[tuple[str, str], list[float]] = {(label, kind): [] for label in HANDLERS for kind in kinds}
        for kind, make in kinds.items():
            for index in range(WARMUP + options["requests"]):
                url, status = make()
                labels = list(HANDLERS) if index % 2 == 0 else list(reversed(HANDLERS))
                for label in labels:
                    elapsed = servers[label].get(url, status)
                    if index >= WARMUP:
                        results[label, kind].append(elapsed)
        out.write(f"\n{options['requests']} requests per URL and handler after {WARMUP} warm-up, one at a time, each "
                  f"to both servers back to back ({info['track_count']} tracks, SQLite, daphne)\n")
        out.write(f"{'':34}" + "".join(f"{kind:>22}" for kind in kinds) + "\n")
        out.write(f"{'':34}" + "".join(f"{'p50    p95 ms':>22}" for _ in kinds) + "\n")
        for label in HANDLERS:
            row = "".join(f"{statistics.median(results[label, kind]):14.2f}{percentile(results[label, kind], 95):8.2f}"
                          for kind in kinds)
            out.write(f"{label:34}{row}\n")
    finally:
        deployment.close()
