"""The log of a real ``manage.py serve`` process: Subsonic secrets never appear in it, and the
client it names is the socket peer, whatever X-Forwarded-For says."""
from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from devtools.deploy import ROOT, EmbeddedServer, free_port

SECRETS = {"p": "clear-password-1", "t": None, "s": "saltysalt42", "apiKey": "api-key-secret-value"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("access-log")
    server = EmbeddedServer(workdir, LOG_LEVEL="INFO")
    server.manage("migrate", "--noinput")
    output = server.manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                                          "from rest_framework.authtoken.models import Token; "
                                          "u = get_user_model().objects.create_user('alice', password='login-password-alice'); "
                                          "print(Token.objects.create(user=u).key)")
    password = server.manage("subsonic_password", "alice").strip()
    server.token = output.strip().splitlines()[-1]
    port = free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-orchestrator", "--port", str(port)],
                                   cwd=ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text(errors="replace"))
                time.sleep(0.2)
        yield base, password, log_path, server.token
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(url: str, headers: dict | None = None) -> bytes:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        return error.read()


def test_subsonic_secrets_are_redacted_from_every_log_line(served):
    base, password, log_path, _ = served
    token = hashlib.md5((password + SECRETS["s"]).encode()).hexdigest()
    calls = [
        {"u": "alice", "p": password},  # the right password, in clear
        {"u": "alice", "p": SECRETS["p"]},  # a wrong one
        {"u": "alice", "p": "enc:" + password.encode().hex()},
        {"u": "alice", "t": token, "s": SECRETS["s"]},
        {"apiKey": SECRETS["apiKey"]},
    ]
    for params in calls:
        get(f"{base}/rest/ping.view?" + urllib.parse.urlencode({**params, "v": "1.16.1", "c": "logtest", "f": "json"}))
    get(f"{base}/rest/nosuchmethod?" + urllib.parse.urlencode({"u": "alice", "p": password, "v": "1.16.1", "c": "x"}))
    get(f"{base}/api/v1/nosuch?password={SECRETS['p']}&token=tok-{SECRETS['s']}")
    time.sleep(0.5)  # the log is written as each response completes
    text = log_path.read_text(errors="replace")
    assert "/rest/ping.view" in text and "c=logtest" in text, text[-2000:]
    for secret in (password, password.encode().hex(), token, *[v for v in SECRETS.values() if v]):
        assert secret not in text, f"{secret!r} is in the log:\n{text[-3000:]}"
    assert "p=[redacted]" in text and "t=[redacted]" in text and "apiKey=[redacted]" in text and "password=[redacted]" in text


def test_the_logged_client_is_the_peer_not_a_forged_header(served):
    base, _, log_path, _ = served
    get(f"{base}/healthz?probe=forged-xff", headers={"X-Forwarded-For": "203.0.113.99"})
    time.sleep(0.5)
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if "probe=forged-xff" in line]
    assert lines and all("127.0.0.1" in line and "203.0.113.99" not in line for line in lines), lines


def test_websocket_connections_are_logged_with_the_peer_and_no_secret(served):
    from websockets.sync.client import connect

    base, _, log_path, token = served
    url = base.replace("http://", "ws://") + "/ws/?probe=ws-line&token=" + SECRETS["apiKey"]
    with connect(url, additional_headers={"Authorization": f"Token {token}", "X-Forwarded-For": "203.0.113.98"}) as ws:
        assert "welcome" in ws.recv(timeout=10)
    time.sleep(0.5)
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if "probe=ws-line" in line]
    assert [line.split('"')[1].split()[0] for line in lines] == ["WSCONNECT", "WSDISCONNECT"], lines
    assert all("127.0.0.1" in line and "203.0.113.98" not in line and SECRETS["apiKey"] not in line
               and "token=[redacted]" in line for line in lines), lines
