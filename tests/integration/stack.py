"""Real server processes for integration tests: bridges (daphne), workers, on Redis + PostgreSQL.

Each ``Stack`` gets its own PostgreSQL database (created from ``DATABASE_URL``, dropped
afterwards), its own Redis key prefix and data folder, so test runs never see each
other's state.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class Stack:
    def __init__(self, postgres_url: str, redis_url: str, workdir: Path, **extra_env: str) -> None:
        self.admin_url = postgres_url
        self.db_name = f"itest_{uuid.uuid4().hex[:12]}"
        self.workdir = workdir
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "WORKER_MODE", "DEBUG", "PYTEST_CURRENT_TEST")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATABASE_URL=with_database(postgres_url, self.db_name),
            REDIS_URL=redis_url,
            CHANNELS_PREFIX=f"itest-{uuid.uuid4().hex[:8]}",
            SECRET_KEY=secrets.token_urlsafe(40),
            DATA_DIR=str(workdir / "data"),
            RPC_TIMEOUT="2",
            Q_WORKERS="1",
            PYTHONUNBUFFERED="1",
        )
        self.env.update(extra_env)

    # -- lifecycle -----------------------------------------------------------------------

    def create(self) -> "Stack":
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.manage("migrate", "--noinput")
        return self

    def destroy(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_bridge(self, name: str, port: int | None = None) -> int:
        port = port or self.ports.get(name) or free_port()
        self.ports[name] = port
        self._spawn(name, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "mediaproject.asgi:application"])
        self.wait_http(port)
        return port

    def start_worker(self, name: str) -> subprocess.Popen:
        return self._spawn(name, [sys.executable, "manage.py", "runworker", "worker"])

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- talking to it -------------------------------------------------------------------

    def url(self, bridge: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[bridge]}{path}"

    def ws_url(self, bridge: str) -> str:
        return f"ws://127.0.0.1:{self.ports[bridge]}/ws/"

    def wait_http(self, port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                return
            except urllib.error.HTTPError:
                return  # answering (503 while no worker runs yet)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"nothing answered on port {port} within {timeout} s")

    def health(self, bridge: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url(bridge, "/healthz"), timeout=15) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait_healthy(self, bridge: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.health(bridge)
            if status == 200 or time.monotonic() > deadline:
                assert status == 200, body
                return body
            time.sleep(0.3)

    def make_user(self, username: str, *, staff: bool = False) -> str:
        """Create a user in the stack's database; returns its API token."""
        code = (
            "from django.contrib.auth import get_user_model;"
            "from rest_framework.authtoken.models import Token;"
            f"u = get_user_model().objects.create_user(username={username!r}, password='x-' + {username!r} * 3, is_staff={staff!r});"
            "print('TOKEN=' + Token.objects.create(user=u).key)"
        )
        output = self.manage("shell", "-c", code)
        return next(line[6:] for line in output.splitlines() if line.startswith("TOKEN="))
