"""``/healthz``: real checks; details (host, pid, errors) for staff only."""
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator

from mediaproject.asgi import application


async def get_health(token: str | None = None):
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    response = await HttpCommunicator(application, "GET", "/healthz", headers=headers).get_response(timeout=15)
    return response["status"], json.loads(response["body"])


@pytest.fixture
def staff_token(make_user, token_for):
    return token_for(make_user("root", staff=True))


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_200_when_database_layer_and_worker_answer(staff_token):
    status, body = await get_health(staff_token)
    assert status == 200
    assert body["status"] == "ok" and body["down"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["vendor"] == "sqlite"
    assert body["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
    assert body["checks"]["worker"]["mode"] == "inline"


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_503_naming_the_worker_when_no_worker_answers(settings, staff_token):
    settings.WORKER_MODE = "queue"  # nobody consumes the worker channel in this process
    settings.RPC_TIMEOUT = 0.5
    status, body = await get_health(staff_token)
    assert status == 503
    assert body["down"] == ["worker"]
    assert body["checks"]["worker"]["error"].startswith("Timeout")


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_503_naming_the_database_when_it_is_unreachable(settings, staff_token):
    from django.db import connections

    # Every thread's connection is built from this one dict; the checks reconnect each time.
    shared = connections.settings["default"]
    original = shared["NAME"]
    shared["NAME"] = "/nonexistent/dir/db.sqlite3"
    try:
        status, body = await get_health(staff_token)
    finally:
        shared["NAME"] = original
    assert status == 503
    assert "database" in body["down"]


@pytest.mark.django_db(transaction=True)
async def test_healthz_tells_anonymous_callers_the_status_only():
    status, body = await get_health()
    assert status == 200
    assert body == {"status": "ok", "down": []}


@pytest.mark.django_db(transaction=True)
async def test_healthz_tells_anonymous_and_non_staff_callers_what_is_down_without_errors_or_hosts(
        settings, make_user, token_for):
    settings.WORKER_MODE = "queue"
    settings.RPC_TIMEOUT = 0.5
    user_token = await database_sync_to_async(lambda: token_for(make_user("bob")))()
    for token in (None, user_token, "not-a-token"):
        status, body = await get_health(token)
        assert status == 503
        assert body == {"status": "down", "down": ["worker"]}


@pytest.mark.django_db(transaction=True)
async def test_healthz_gives_staff_the_details_by_session_too(make_user, client):
    from asgiref.sync import sync_to_async

    user = await database_sync_to_async(make_user)("root", staff=True)
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    response = await HttpCommunicator(application, "GET", "/healthz",
                                      headers=[(b"host", b"127.0.0.1"), (b"cookie", cookie)]).get_response(timeout=15)
    body = json.loads(response["body"])
    assert response["status"] == 200
    assert body["checks"]["worker"]["handled_by"]
