"""Real server processes on a throwaway database, for the tests and the benchmarks.

``Deployment`` holds what they share: a work folder, the environment the processes get,
``manage.py`` commands, daphne bridges, ``runworker`` workers and a ``qcluster``
orchestrator started by name (each logging to ``<workdir>/<name>.log``), waiting for
``/healthz``, stopping, killing, and the throwaway PostgreSQL database it may own.

- ``Stack``: the scaled mode for integration tests (its own PostgreSQL database created
  from ``DATABASE_URL`` and dropped afterwards, its own Redis key prefix and data folder),
  so test runs never see each other's state.
- ``EmbeddedServer``: one daphne process in the embedded mode (SQLite in a temporary data
  folder, in-memory layer, inline worker), for tests that need a real server but no services.
- ``sqlite_deployment`` / ``postgres_deployment``: the benchmarks' deployments.

The stream benchmark's bridge (``devtools.bench.streams.Bridge``) and the browser tests'
server (``tests/ui``) derive from ``Deployment`` too.
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

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def child_env(drop: tuple[str, ...], **values: str) -> dict[str, str]:
    """This process's environment less ``drop``, plus ``values``."""
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update(values)
    return env


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Deployment:
    """A work folder, the environment of its server processes, and the processes by name.

    ``db_name``: a PostgreSQL database (on the server of ``admin_url``) that ``close``
    drops; ``owns_workdir``: ``close`` removes the work folder too.
    """

    def __init__(self, workdir: Path, env: dict[str, str], *, label: str = "", admin_url: str = "",
                 db_name: str = "", owns_workdir: bool = False, manage_timeout: float | None = 120) -> None:
        self.workdir = Path(workdir)
        self.env = env
        self.label, self.admin_url, self.db_name = label, admin_url, db_name
        self.owns_workdir = owns_workdir
        self.manage_timeout = manage_timeout
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def close(self) -> None:
        """Stop every process; drop the database and the work folder this deployment owns."""
        for name in list(self.processes):
            self.stop(name)
        if self.db_name:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=self.manage_timeout)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return result.stdout

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes[name] = process
        return process

    def start_bridge(self, name: str = "bridge", port: int | None = None, daphne_args: tuple[str, ...] = (),
                     wait: bool = True, healthy: bool = False, timeout: float = 30,
                     app: str = "mediaproject.asgi:application") -> int:
        """A daphne process serving ``app``; ``daphne_args`` e.g. ``("--ping-interval", "2",
        "--ping-timeout", "2")``. ``wait``: until it answers ``/healthz`` (``healthy``: until it
        answers 200)."""
        port = port or self.ports.get(name) or free_port()
        self.ports[name] = port
        self.spawn(name, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *daphne_args, app])
        if wait:
            self.wait_http(port, timeout, healthy=healthy, process=self.processes[name], name=name)
        return port

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        return self.spawn(name, [sys.executable, "manage.py", "runworker", "worker"])

    def start_orchestrator(self, name: str = "orchestrator") -> subprocess.Popen:
        return self.spawn(name, [sys.executable, "manage.py", "qcluster"])

    def start_servers(self, bridges: int = 1, workers: int = 0, timeout: float = 30) -> list[int]:
        """``bridges`` daphne processes and ``workers`` runworker processes; the bridges' ports
        once each answers ``/healthz`` with 200."""
        ports = [self.start_bridge(f"bridge-{i}", wait=False) for i in range(bridges)]
        for i in range(workers):
            self.start_worker(f"worker-{i}")
        for i, port in enumerate(ports):
            self.wait_http(port, timeout, healthy=True, process=self.processes[f"bridge-{i}"], name=f"bridge-{i}")
        return ports

    def wait_http(self, port: int, timeout: float = 30, *, healthy: bool = False,
                  process: subprocess.Popen | None = None, name: str = "") -> None:
        """Until ``/healthz`` on ``port`` answers (any status; ``healthy``: 200)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                return
            except urllib.error.HTTPError:
                if not healthy:
                    return  # answering (503 while no worker runs yet)
            except OSError:
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name or 'the server'} exited:\n{self.log(name)[-4000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"nothing {'healthy ' if healthy else ''}answered on port {port} within {timeout} s")

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

    def make_user(self, username: str, *, staff: bool = False) -> str:
        """Create a user; returns its API token."""
        return self.make_users(username, staff=staff)[username]


class Stack(Deployment):
    """The scaled mode on its own PostgreSQL database, Redis key prefix and data folder."""

    def __init__(self, postgres_url: str, redis_url: str, workdir: Path, **extra_env: str) -> None:
        db_name = f"itest_{uuid.uuid4().hex[:12]}"
        env = child_env(
            ("DJANGO_SETTINGS_MODULE", "WORKER_MODE", "DEBUG", "PYTEST_CURRENT_TEST"),
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATABASE_URL=with_database(postgres_url, db_name),
            REDIS_URL=redis_url,
            CHANNELS_PREFIX=f"itest-{uuid.uuid4().hex[:8]}",
            SECRET_KEY=secrets.token_urlsafe(40),
            DATA_DIR=str(Path(workdir) / "data"),
            RPC_TIMEOUT="2",
            Q_WORKERS="1",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        super().__init__(workdir, env, admin_url=postgres_url, db_name=db_name)

    def create(self) -> "Stack":
        self.create_database()
        self.manage("migrate", "--noinput")
        return self

    def destroy(self) -> None:
        self.close()

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

    def sql(self, query: str, *params) -> list[tuple]:
        """Rows from the stack's database (the truth the clients are compared with)."""
        with psycopg.connect(with_database(self.admin_url, self.db_name), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def tracker_states(self, ids) -> dict[str, tuple[int, dict]]:
        rows = self.sql("SELECT id::text, version, state FROM tracker_tracker WHERE id::text = ANY(%s)", list(ids))
        return {row[0]: (row[1], row[2]) for row in rows}


class EmbeddedServer(Deployment):
    """One daphne process (named ``daphne``) in the embedded mode: SQLite in a temporary folder,
    in-memory layer.

    Used by the hostile-input, liveness and backpressure tests, which need a real server
    (real sockets, real daphne) but neither PostgreSQL nor Redis.
    """

    _template: Path | None = None  # a migrated database, copied by later servers of this test session

    def __init__(self, workdir: Path, daphne_args: tuple[str, ...] = (), **extra_env: str) -> None:
        env = child_env(
            ("DJANGO_SETTINGS_MODULE", "WORKER_MODE", "DEBUG", "PYTEST_CURRENT_TEST", "DATABASE_URL", "REDIS_URL"),
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATA_DIR=str(Path(workdir) / "data"),
            SECRET_KEY=secrets.token_urlsafe(40),
            TRACKER_LOG_TAIL="0",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        super().__init__(workdir, env)
        self.daphne_args = daphne_args
        self.process: subprocess.Popen | None = None
        self.port = 0

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
        self.ports.pop("daphne", None)
        self.port = self.start_bridge("daphne", daphne_args=self.daphne_args)
        self.process = self.processes["daphne"]
        return self

    def stop(self, name: str = "daphne", sig: int = signal.SIGTERM) -> None:
        super().stop(name, sig)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_kib(self, name: str = "daphne") -> int:
        return rss_kib(self.process.pid)

    def log(self, name: str = "daphne") -> str:
        return super().log(name)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def sql(self, query: str, *params) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(self.workdir / "data" / "db.sqlite3") as conn:
            return conn.execute(query, params).fetchall()


# -- the benchmarks' deployments ---------------------------------------------------------------


def bench_env(data_dir: str) -> dict[str, str]:
    return child_env(("DATABASE_URL", "REDIS_URL", "WORKER_MODE", "DJANGO_SETTINGS_MODULE"),
                     DATA_DIR=data_dir, SECRET_KEY=secrets.token_urlsafe(40), LOG_LEVEL="WARNING",
                     WS_RATE_LIMIT="10000", WS_RATE_BURST="10000", DJANGO_SETTINGS_MODULE="mediaproject.settings",
                     WS_MAX_CONNECTIONS_PER_USER="1000000")  # one user holds every benchmark connection


def sqlite_deployment(label: str = "SQLite, embedded (in-memory layer, inline worker)",
                      prefix: str = "bench-trackers-") -> Deployment:
    workdir = tempfile.mkdtemp(prefix=prefix)
    return Deployment(Path(workdir), bench_env(workdir), label=label, owns_workdir=True, manage_timeout=None)


def postgres_deployment(postgres_url: str, redis_url: str = "", *,
                        label: str = "PostgreSQL + Redis, scaled (1 bridge, 1 worker)",
                        prefix: str = "bench-trackers-", db_prefix: str = "bench_") -> Deployment:
    """A fresh PostgreSQL database; the scaled mode on ``redis_url`` with its own key prefix if given."""
    name = f"{db_prefix}{uuid.uuid4().hex[:10]}"
    parts = urlsplit(postgres_url)
    workdir = tempfile.mkdtemp(prefix=prefix)
    env = bench_env(workdir)
    env["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    if redis_url:
        env.update(REDIS_URL=redis_url, CHANNELS_PREFIX=f"bench-{uuid.uuid4().hex[:6]}")
    deployment = Deployment(Path(workdir), env, label=label, admin_url=postgres_url, db_name=name,
                            owns_workdir=True, manage_timeout=None)
    deployment.create_database()
    return deployment
