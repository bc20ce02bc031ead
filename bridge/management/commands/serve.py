"""``manage.py serve``: the embedded server as one command.

Starts daphne (the bridge, with the worker inline) and the django-q2 cluster (the
orchestrator) as child processes, prints where to go, and stops both cleanly on Ctrl-C
or SIGTERM. If either child dies, the other is stopped and the command exits non-zero.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the embedded server: daphne with the inline worker, plus the orchestrator."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--no-orchestrator", action="store_true", help="do not start the django-q2 cluster")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        manage = [sys.executable, os.path.join(settings.BASE_DIR, "manage.py")]
        commands = {
            "bridge": [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "--proxy-headers", "mediaproject.asgi:application"],
        }
        if not options["no_orchestrator"]:
            commands["orchestrator"] = manage + ["qcluster"]
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
