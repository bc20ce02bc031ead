"""Sign-in lockout in the scaled mode, behind a trusted proxy: two real bridges on Redis and
PostgreSQL count failures together, the client is the right-most X-Forwarded-For address that
is not the proxy (whatever the client wrote left of it), and the access log names that client."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.services import POSTGRES_URL, REDIS_URL

from devtools.deploy import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if not (POSTGRES_URL and REDIS_URL):
        pytest.skip("DATABASE_URL (PostgreSQL) and REDIS_URL are not both set: multi-process tests need them")
    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path_factory.mktemp("signin"), TRUSTED_PROXIES="127.0.0.1",
                  LOG_LEVEL="INFO").create()
    try:
        stack.make_users("alice", "bob", "carol")
        stack.subsonic = {name: stack.manage("subsonic_password", name).strip() for name in ("bob", "carol")}
        stack.start_bridge("bridge-a", daphne_args=("-v", "0"))
        stack.start_bridge("bridge-b", daphne_args=("-v", "0"))
        yield stack
    finally:
        stack.destroy()


def call(url: str, *, data: dict | None = None, client: str) -> tuple[int, dict, dict]:
    """A request as nginx forwards it: the client wrote a forged X-Forwarded-For entry, nginx appended the real one."""
    headers = {"X-Forwarded-For": f"6.6.6.{int(time.monotonic() * 1000) % 250}, {client}"}
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def subsonic(stack: Stack, bridge: str, username: str, password: str, client: str) -> dict:
    salt = "s4lt"
    params = {"u": username, "s": salt, "t": hashlib.md5((password + salt).encode()).hexdigest(),
              "v": "1.16.1", "c": "itest", "f": "json"}
    return call(stack.url(bridge, "/rest/ping.view?" + urllib.parse.urlencode(params)), client=client)[2]["subsonic-response"]


def test_an_address_locked_on_one_bridge_is_locked_on_the_other(proxied):
    for n in range(10):
        assert subsonic(proxied, "bridge-a", f"nobody{n}", "wrong", "203.0.113.5")["error"]["code"] == 40
    refused = subsonic(proxied, "bridge-b", "bob", proxied.subsonic["bob"], "203.0.113.5")
    assert "Too many failed sign-ins" in refused["error"]["message"]
    assert subsonic(proxied, "bridge-b", "bob", proxied.subsonic["bob"], "203.0.113.6")["status"] == "ok"
    log = proxied.log("bridge-b")
    assert "bridge.access 203.0.113.5 " in log and "bridge.access 6.6.6." not in log, log[-2000:]


def test_a_username_locked_on_one_bridge_is_locked_on_the_other(proxied):
    statuses = [call(proxied.url("bridge-a", "/api/v1/auth/token/"), data={"username": "carol", "password": "wrong"},
                     client=f"198.51.100.{n + 1}")[0] for n in range(10)]
    assert statuses == [400] * 9 + [429]  # the tenth failure reaches the limit
    status, headers, body = call(proxied.url("bridge-b", "/api/v1/auth/token/"),
                                 data={"username": "carol", "password": "x-" + "carol" * 3}, client="198.51.100.99")
    assert status == 429 and body["error"]["code"] == "rate_limited" and int(headers["Retry-After"]) == 60
    locked = subsonic(proxied, "bridge-b", "carol", proxied.subsonic["carol"], "198.51.100.98")
    assert "Too many failed sign-ins" in locked["error"]["message"]  # the same count for every password check
    status, _, _ = call(proxied.url("bridge-b", "/api/v1/auth/token/"),
                        data={"username": "alice", "password": "x-" + "alice" * 3}, client="198.51.100.99")
    assert status == 200
