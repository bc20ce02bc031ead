"""``manage.py serve``: the whole server as one command.

Default (embedded): daphne (the bridge, with the worker inline) and the django-q2 cluster
(the orchestrator) as child processes.

``--scaled``: a local try-out of the scaled mode on the configured ``REDIS_URL`` and
``DATABASE_URL``: ``--bridges`` daphne processes (default 2) on ports P, P+1, ...,
``--workers`` ``runworker worker`` processes (default 2) and one orchestrator
(``qcluster``). It refuses to start without ``REDIS_URL``. Put a load balancer in front
of the bridges for real use (``deploy/nginx.conf.example``, ``Procfile``).

Every bridge runs with daphne's WebSocket keepalive (``--ping-interval``,
``--ping-timeout``): a client that stops answering pings is dropped and its device goes
offline. Never with ``--proxy-headers``: daphne would take the client's address from the
left-most ``X-Forwarded-For`` entry, which the client writes, from any peer; the application
reads it itself, only from ``TRUSTED_PROXIES`` (``bridge.clientaddr``). And with ``-v 0``:
daphne's access log prints whole query strings (Subsonic passwords); the application writes
its own, redacted (``bridge.logs``). The command prints where to go, and stops every child cleanly on Ctrl-C or
SIGTERM; if any child dies, the others are stopped and the command exits non-zero.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 10
# Keepalive defaults: an idle connection is pinged after PING_INTERVAL seconds and dropped
# when no pong comes within PING_TIMEOUT (daphne's own defaults are 20 and 30).
PING_INTERVAL = 15
PING_TIMEOUT = 15


def bridge_command(host: str, port: int, ping_interval: int = PING_INTERVAL, ping_timeout: int = PING_TIMEOUT) -> list[str]:
    return [
        sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "-v", "0",
        "--ping-interval", str(ping_interval), "--ping-timeout", str(ping_timeout),
        "mediaproject.asgi:application",
    ]


class Command(BaseCommand):
    help = "Run the server: embedded (daphne with the inline worker, plus the orchestrator) or --scaled."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; --scaled: the first bridge's)")
        parser.add_argument("--no-orchestrator", action="store_true", help="do not start the django-q2 cluster")
        parser.add_argument("--scaled", action="store_true",
                            help="scaled mode on REDIS_URL and DATABASE_URL: several bridges and workers, one orchestrator")
        parser.add_argument("--bridges", type=int, default=2, help="--scaled: daphne processes, on ports P, P+1, ... (default 2)")
        parser.add_argument("--workers", type=int, default=2, help="--scaled: runworker processes (default 2)")
        parser.add_argument("--ping-interval", type=int, default=PING_INTERVAL,
                            help=f"seconds of silence before a WebSocket is pinged (default {PING_INTERVAL})")
        parser.add_argument("--ping-timeout", type=int, default=PING_TIMEOUT,
                            help=f"seconds to wait for the pong before dropping the connection (default {PING_TIMEOUT})")

    def commands(self, options) -> dict[str, list[str]]:
        host, port = options["host"], options["port"]
        ping = (options["ping_interval"], options["ping_timeout"])
        manage = [sys.executable, os.path.join(settings.BASE_DIR, "manage.py")]
        if not options["scaled"]:
            commands = {"bridge": bridge_command(host, port, *ping)}
        else:
            if not settings.SCALED:
                raise CommandError(
                    "serve --scaled needs REDIS_URL (e.g. redis://127.0.0.1:6379/0), and usually DATABASE_URL "
                    "(postgres://user@host:5432/db) and SECRET_KEY: the scaled mode's processes share Redis and the "
                    "database. Without them, run plain `manage.py serve` (the embedded mode)."
                )
            if settings.WORKER_MODE != "queue":
                raise CommandError("serve --scaled needs WORKER_MODE=queue (the default when REDIS_URL is set)")
            if options["bridges"] < 1 or options["workers"] < 1:
                raise CommandError("--bridges and --workers must be at least 1")
            commands = {f"bridge-{i + 1}": bridge_command(host, port + i, *ping) for i in range(options["bridges"])}
            for i in range(options["workers"]):
                commands[f"worker-{i + 1}"] = manage + ["runworker", "worker"]
        if not options["no_orchestrator"]:
            commands["orchestrator"] = manage + ["qcluster"]
        return commands

    def handle(self, *args, **options):
        commands = self.commands(options)
        host, port = options["host"], options["port"]
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, cwd=settings.BASE_DIR)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        if options["scaled"]:
            ports = ", ".join(f"http://{shown_host}:{port + i}/" for i in range(options["bridges"]))
            database = settings.DATABASES["default"]
            self.stdout.write(self.style.SUCCESS(
                f"Scaled mode: bridges at {ports}; {options['workers']} workers"
                f"{'' if options['no_orchestrator'] else ', 1 orchestrator'}; "
                f"{database['ENGINE'].rsplit('.', 1)[-1]} database {database.get('NAME')!s}; Ctrl-C stops"))
        else:
            mode = "scaled" if settings.SCALED else "embedded"
            self.stdout.write(self.style.SUCCESS(f"Serving at http://{shown_host}:{port}/  ({mode} mode; Ctrl-C stops)"))
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        self.stderr.write(f"{name} exited with status {code}; stopping")
                        exit_code = code or 1
                        stopping = True
                        break
                time.sleep(0.2)
        finally:
            self.shutdown(children)
        if exit_code:
            sys.exit(exit_code)

    def shutdown(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killing it")
                child.kill()
                child.wait()
        self.stdout.write("Stopped.")
