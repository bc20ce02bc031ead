"""Browser (session cookie) connections are rechecked like token ones (``AuthWatch``).

Every ``WS_AUTH_RECHECK`` seconds (0.5 here) the bridge checks, for all its session
connections at once, that each session still exists and has not expired, is still logged
in as the connection's user, that user is still active, and the session's auth hash still
matches the user's (it changes with the password). A connection failing any of these is
closed with 4401. The token side is in ``test_liveness.py``
(``test_a_token_deleted_while_connected_closes_the_connection_4401``).
"""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient

from bridge import ws
from bridge.ws import credentials

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"  # the conftest's make_user default
HOST = (b"host", b"127.0.0.1:8000")
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
CLOSED_4401 = {"type": "websocket.close", "code": 4401}
ENGINES = ["db", "cached_db", "cache", "file"]


@pytest.fixture(autouse=True)
def fast_recheck(settings, tmp_path):
    settings.WS_AUTH_RECHECK = 0.5
    settings.SESSION_FILE_PATH = str(tmp_path)


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def use_engine(settings, engine: str) -> None:
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"


async def browser_login(user) -> tuple[HttpClient, str]:
    """A real password login over HTTP: the browser's client and its session cookie."""
    def login():
        http = HttpClient(HTTP_HOST="127.0.0.1")
        response = http.post("/login/", {"username": user.get_username(), "password": PASSWORD})
        assert response.status_code == 302, response.content[:300]
        return http, http.cookies["sessionid"].value

    return await database_sync_to_async(login)()


async def browser_connection(ws_client, cookie: str):
    client = await ws_client(headers=[HOST, ORIGIN, (b"cookie", f"sessionid={cookie}".encode())])
    assert client.welcome["payload"]["user"]["username"] == "alice"
    return client


async def assert_closed_4401(client, timeout: float = 5) -> None:
    assert await client.communicator.receive_output(timeout=timeout) == CLOSED_4401


async def assert_still_open(client, rounds: int = 4) -> None:
    assert await client.communicator.receive_nothing(timeout=rounds * 0.5 + 0.25, interval=0.05)
    reply = await client.request("system.health.ping")
    assert reply["ok"] is True


@pytest.mark.parametrize("engine", ENGINES)
async def test_logging_out_closes_the_browsers_connection_4401(settings, engine, alice, ws_client):
    use_engine(settings, engine)
    http, cookie = await browser_login(alice)
    client = await browser_connection(ws_client, cookie)
    before = ws.STATS["closed_revoked"]
    await database_sync_to_async(http.logout)()  # flushes (deletes) the session
    await assert_closed_4401(client)
    assert ws.STATS["closed_revoked"] == before + 1


async def test_a_deleted_session_closes_the_connection_4401(alice, ws_client):
    from django.contrib.sessions.models import Session

    _http, cookie = await browser_login(alice)
    client = await browser_connection(ws_client, cookie)
    await database_sync_to_async(lambda: Session.objects.filter(session_key=cookie).delete())()
    await assert_closed_4401(client)


async def test_an_expired_session_closes_the_connection_4401(alice, ws_client):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    _http, cookie = await browser_login(alice)
    client = await browser_connection(ws_client, cookie)
    await database_sync_to_async(lambda: Session.objects.filter(session_key=cookie).update(
        expire_date=timezone.now() - timedelta(seconds=1)))()
    await assert_closed_4401(client)


def deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def change_password(user) -> None:
    user.set_password("a brand new passphrase")
    user.save()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("change", [deactivate, change_password], ids=["deactivated", "new-password"])
async def test_a_change_to_the_user_closes_the_connection_4401(settings, engine, change, alice, ws_client):
    use_engine(settings, engine)
    _http, cookie = await browser_login(alice)
    client = await browser_connection(ws_client, cookie)
    await database_sync_to_async(change)(alice)
    await assert_closed_4401(client)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_valid_session_stays_connected_across_recheck_rounds(settings, engine, alice, ws_client):
    use_engine(settings, engine)
    _http, cookie = await browser_login(alice)
    kept = await browser_connection(ws_client, cookie)
    other_http, other_cookie = await browser_login(alice)  # a second browser of the same user
    logged_out = await browser_connection(ws_client, other_cookie)
    await assert_still_open(kept)  # several rounds with nothing to close
    await database_sync_to_async(other_http.logout)()
    await assert_closed_4401(logged_out)  # a round ran: only the logged-out browser is closed
    await assert_still_open(kept)


async def test_token_and_session_connections_are_checked_in_the_same_round(alice, token_for, ws_client):
    from rest_framework.authtoken.models import Token

    await database_sync_to_async(token_for)(alice)
    by_token = await ws_client(alice)
    http, cookie = await browser_login(alice)
    by_session = await browser_connection(ws_client, cookie)
    await assert_still_open(by_token, rounds=2)
    await database_sync_to_async(lambda: Token.objects.filter(user=alice).delete())()
    await assert_closed_4401(by_token)
    await assert_still_open(by_session, rounds=2)
    await database_sync_to_async(http.logout)()
    await assert_closed_4401(by_session)


async def test_a_failing_session_check_closes_nothing(settings, alice, ws_client, caplog):
    http, cookie = await browser_login(alice)
    client = await browser_connection(ws_client, cookie)
    await database_sync_to_async(http.logout)()
    # The session store cannot be read now: the (logged-out) connection is not closed on a guess.
    settings.SESSION_ENGINE = "bridge.no_such_session_engine"
    with caplog.at_level(logging.WARNING, logger="bridge.ws.credentials"):
        assert await client.communicator.receive_nothing(timeout=1.5, interval=0.05)
    assert "could not recheck connection sessions" in caplog.text
    # Once the store answers again, the next round closes it.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    await assert_closed_4401(client)


def test_session_check_is_batched(make_user, django_assert_max_num_queries):
    """One query for all the sessions (database engine), one for their users."""
    watched = []
    for n in range(5):
        user = make_user(f"user{n}")
        for _ in range(3):
            http = HttpClient()
            http.force_login(user)
            watched.append((http.cookies["sessionid"].value, user.pk))
    with django_assert_max_num_queries(2):
        assert credentials._valid_sessions(watched) == set(watched)


async def test_a_staff_flag_changed_without_signals_is_followed_on_the_next_round(make_user, ws_client):
    """``QuerySet.update()`` sends no signal (``tracker.access``); the periodic round catches it."""
    admin = await database_sync_to_async(make_user)("admin", staff=True)
    client = await ws_client(admin)
    await database_sync_to_async(lambda: type(admin).objects.filter(pk=admin.pk).update(is_staff=False))()
    changed = await client.event("system.session.user_changed", timeout=3)
    assert changed["payload"]["user"] == {"id": admin.pk, "username": "admin", "is_staff": False}
    assert (await client.request("system.announcement.send", {"text": "x"}))["error"]["code"] == "forbidden"
