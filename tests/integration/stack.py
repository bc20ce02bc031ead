"""Real server processes for integration tests: bridges (daphne), workers, on Redis + PostgreSQL.

Each ``Stack`` gets its own PostgreSQL database (created from ``DATABASE_URL``, dropped
afterwards), its own Redis key prefix and data folder, so test runs never see each
other's state. ``EmbeddedServer`` is one daphne process in the embedded mode (SQLite in a
temporary data folder, in-memory layer, inline worker), for tests that need a real
server but no services.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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

    def start_bridge(self, name: str, port: int | None = None, daphne_args: tuple[str, ...] = (), wait: bool = True) -> int:
        """A daphne process; ``daphne_args`` e.g. ``("--ping-interval", "2", "--ping-timeout", "2")``."""
        port = port or self.ports.get(name) or free_port()
        self.ports[name] = port
        self._spawn(name, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *daphne_args,
                           "mediaproject.asgi:application"])
        if wait:
            self.wait_http(port)
        return port

    def start_worker(self, name: str) -> subprocess.Popen:
        return self._spawn(name, [sys.executable, "manage.py", "runworker", "worker"])

    def start_orchestrator(self, name: str = "orchestrator") -> subprocess.Popen:
        return self._spawn(name, [sys.executable, "manage.py", "qcluster"])

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

    def kill(self, name: str) -> None:
        """SIGKILL the process and every process it started (its session), as a crash would."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def rss_kib(self, name: str) -> int:
        return rss_kib(self.processes[name].pid)

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

    def make_users(self, *usernames: str, staff: bool = False) -> dict[str, str]:
        """Several users in one ``manage.py shell`` (each start costs a second); name -> token."""
        code = (
            "from django.contrib.auth import get_user_model;"
            "from rest_framework.authtoken.models import Token;"
            f"names = {list(usernames)!r};"
            f"users = [get_user_model().objects.create_user(username=n, password='x-' + n * 3, is_staff={staff!r}) for n in names];"
            "print('\\n'.join('TOKEN=' + u.username + '=' + Token.objects.create(user=u).key for u in users))"
        )
        output = self.manage("shell", "-c", code)
        return dict(line[6:].split("=", 1) for line in output.splitlines() if line.startswith("TOKEN="))

    def sql(self, query: str, *params) -> list[tuple]:
        """Rows from the stack's database (the truth the clients are compared with)."""
        with psycopg.connect(with_database(self.admin_url, self.db_name), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def tracker_states(self, ids) -> dict[str, tuple[int, dict]]:
        rows = self.sql("SELECT id::text, version, state FROM tracker_tracker WHERE id::text = ANY(%s)", list(ids))
        return {row[0]: (row[1], row[2]) for row in rows}

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


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class EmbeddedServer:
    """One daphne process in the embedded mode: SQLite in a temporary folder, in-memory layer.

    Used by the hostile-input, liveness and backpressure tests, which need a real server
    (real sockets, real daphne) but neither PostgreSQL nor Redis.
    """

    def __init__(self, workdir: Path, daphne_args: tuple[str, ...] = (), **extra_env: str) -> None:
        self.workdir = workdir
        self.daphne_args = daphne_args
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.env = {
            k: v for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "WORKER_MODE", "DEBUG", "PYTEST_CURRENT_TEST", "DATABASE_URL", "REDIS_URL")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATA_DIR=str(workdir / "data"),
            SECRET_KEY=secrets.token_urlsafe(40),
            TRACKER_LOG_TAIL="0",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        self.env.update(extra_env)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    _template: Path | None = None  # a migrated database, copied by later servers of this test session

    def start(self) -> "EmbeddedServer":
        database = self.workdir / "data" / "db.sqlite3"
        if not database.exists():
            template = EmbeddedServer._template
            if template is not None and template.exists():
                database.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(template, database)
            else:
                self.manage("migrate", "--noinput")
                fd, name = tempfile.mkstemp(prefix="embedded-template-", suffix=".sqlite3")
                os.close(fd)
                shutil.copyfile(database, name)
                EmbeddedServer._template = Path(name)
        self.port = free_port()
        log = open(self.workdir / "daphne.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), *self.daphne_args, "mediaproject.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"daphne exited:\n{self.log()}")
                time.sleep(0.2)
        raise RuntimeError("the embedded server did not answer within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def log(self) -> str:
        path = self.workdir / "daphne.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def make_users(self, *usernames: str, staff: bool = False) -> dict[str, str]:
        return Stack.make_users(self, *usernames, staff=staff)  # same code, this server's manage()

    def sql(self, query: str, *params) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(self.workdir / "data" / "db.sqlite3") as conn:
            return conn.execute(query, params).fetchall()
