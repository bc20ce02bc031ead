"""``manage.py serve --scaled``: refuses without Redis; with it, two bridges, two workers and
the orchestrator come up healthy and stop together on Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.services import POSTGRES_URL, REDIS_URL

from devtools.deploy import ROOT, Stack, free_port


def test_serve_scaled_refuses_without_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "WORKER_MODE", "DJANGO_SETTINGS_MODULE")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="mediaproject.settings")
    result = subprocess.run([sys.executable, "manage.py", "serve", "--scaled"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "serve --scaled needs REDIS_URL" in result.stderr


@pytest.mark.integration
@pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL), reason="DATABASE_URL (PostgreSQL) and REDIS_URL are not both set")
def test_serve_scaled_runs_two_bridges_two_workers_and_the_orchestrator(tmp_path):
    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path).create()
    staff_token = stack.make_users("root", staff=True)["root"]  # /healthz names the worker to staff only
    port = free_port()
    while True:  # P and P+1 both free
        try:
            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port + 1))
            break
        except OSError:
            port = free_port()
    process = subprocess.Popen([sys.executable, "manage.py", "serve", "--scaled", "--port", str(port)], cwd=ROOT,
                               env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        handlers = set()
        for bridge_port in (port, port + 1):
            deadline = time.monotonic() + 45
            while True:
                try:
                    request = urllib.request.Request(f"http://127.0.0.1:{bridge_port}/healthz",
                                                     headers={"Authorization": f"Token {staff_token}"})
                    with urllib.request.urlopen(request, timeout=10) as response:
                        body = __import__("json").loads(response.read())
                        handlers.add(body["checks"]["worker"]["handled_by"])
                        break
                except Exception:
                    assert time.monotonic() < deadline, f"bridge on {bridge_port} not healthy"
                    time.sleep(0.3)
        children = subprocess.run(["pgrep", "-s", str(process.pid), "-f", "runworker worker|qcluster|daphne"],
                                  capture_output=True, text=True).stdout.split()
        assert len(children) >= 5, children  # 2 bridges, 2 workers, the orchestrator (and its own workers)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        stack.destroy()
    assert "Scaled mode: bridges at" in output and "Stopped." in output
    assert process.returncode == 0
    left = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert not left, f"children left running: {left}"
