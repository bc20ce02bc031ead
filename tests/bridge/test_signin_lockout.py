"""Every password check locks after LOGIN_RATE failures (per address and per username), the
right password included, and unlocks once the window has passed; the address is the socket
peer unless it is a trusted proxy, so a forged X-Forwarded-For evades nothing."""
from __future__ import annotations

import hashlib
import itertools

import pytest
from django.core.cache.backends import locmem
from django.test import Client

pytestmark = pytest.mark.django_db

LIMIT = 10  # LOGIN_RATE's default, 10/min
RIGHT = "correct horse battery"
forged = (f"198.51.100.{n % 250}" for n in itertools.count(1))


@pytest.fixture
def clock(monkeypatch):
    """Moves the cache's clock forward (the failure counts expire with the window)."""
    import time as real_time

    class Clock:
        offset = 0.0

        def time(self):
            return real_time.time() + self.offset

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    clock = Clock()
    monkeypatch.setattr(locmem, "time", clock)
    return clock


def http(address: str = "192.0.2.10", **headers) -> Client:
    return Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR=address, **headers)


def token(client: Client, username: str, password: str, **headers):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, **headers)


def ui_login(client: Client, username: str, password: str, **headers):
    return client.post("/login/", {"username": username, "password": password}, **headers)


def admin_login(client: Client, username: str, password: str, **headers):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **headers)


def subsonic(client: Client, username: str, password: str, **headers):
    salt = "abc123"
    params = {"u": username, "t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt,
              "v": "1.16.1", "c": "pytest", "f": "json"}
    return client.get("/rest/ping.view", params, **headers)


def subsonic_ok(response) -> bool:
    return response.json()["subsonic-response"]["status"] == "ok"


def signed_in(path: str, response) -> bool:
    if path == "token":
        return response.status_code == 200
    if path == "subsonic":
        return subsonic_ok(response)
    return response.status_code == 302


def refused_as_locked(path: str, response) -> bool:
    if path == "subsonic":
        body = response.json()["subsonic-response"]
        return body["status"] == "failed" and body["error"]["code"] == 40 and "Too many failed sign-ins" in body["error"]["message"]
    return response.status_code == 429 and int(response["Retry-After"]) == 60


CALLS = {"token": token, "ui": ui_login, "admin": admin_login, "subsonic": subsonic}


@pytest.fixture
def users(make_user):
    from bridge.subsonic import credentials

    made = {}
    for name in ("alice", "bob"):
        user = make_user(name, staff=True)  # staff: the admin login accepts them
        made[name] = credentials.password_reset(user)
    return made


def password(path: str, users, username: str) -> str:
    return users[username] if path == "subsonic" else RIGHT


@pytest.mark.parametrize("path", CALLS)
def test_a_username_locks_after_the_limit_and_unlocks_after_the_window(path, users, clock):
    call = CALLS[path]
    right = password(path, users, "alice")
    assert signed_in(path, call(http(), "alice", right))
    # Failures from many addresses, each with a forged X-Forwarded-For: the username counts them all.
    for n in range(LIMIT):
        call(http(f"192.0.2.{100 + n}", HTTP_X_FORWARDED_FOR=next(forged)), "alice", "wrong")
    locked = call(http("203.0.113.1"), "alice", right)
    assert refused_as_locked(path, locked), locked.content[:300]
    assert signed_in(path, call(http("203.0.113.1"), "bob", password(path, users, "bob")))  # others are not affected
    clock.advance(61)
    assert signed_in(path, call(http("203.0.113.1"), "alice", right))


@pytest.mark.parametrize("path", CALLS)
def test_an_address_locks_whatever_x_forwarded_for_says(path, users, clock):
    call = CALLS[path]
    for n in range(LIMIT):  # a different forged header and an unknown username each time
        call(http("192.0.2.10", HTTP_X_FORWARDED_FOR=next(forged)), f"nobody{n}", "wrong")
    locked = call(http("192.0.2.10", HTTP_X_FORWARDED_FOR=next(forged)), "bob", password(path, users, "bob"))
    assert refused_as_locked(path, locked), locked.content[:300]
    assert signed_in(path, call(http("192.0.2.11"), "bob", password(path, users, "bob")))
    clock.advance(61)
    assert signed_in(path, call(http("192.0.2.10"), "bob", password(path, users, "bob")))


@pytest.mark.parametrize("path", CALLS)
def test_behind_a_trusted_proxy_the_right_most_untrusted_address_counts(path, users, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    call = CALLS[path]
    proxy = http("10.0.0.2")
    for n in range(LIMIT):  # client 203.0.113.7, through two proxies, forging the left-most entry
        call(proxy, f"nobody{n}", "wrong", HTTP_X_FORWARDED_FOR=f"{next(forged)}, 203.0.113.7, 10.1.1.1")
    locked = call(proxy, "bob", password(path, users, "bob"), HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert refused_as_locked(path, locked), locked.content[:300]
    # Another client behind the same proxy is not affected.
    assert signed_in(path, call(proxy, "bob", password(path, users, "bob"), HTTP_X_FORWARDED_FOR="203.0.113.8"))


def test_the_token_throttle_is_not_evaded_by_a_forged_header(users):
    codes = [token(http("192.0.2.20", HTTP_X_FORWARDED_FOR=next(forged)), f"x{n}", "wrong").status_code
             for n in range(LIMIT + 2)]
    assert codes[-1] == 429
