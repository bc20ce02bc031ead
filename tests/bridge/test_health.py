import json

import pytest
from channels.testing import HttpCommunicator

from mediaproject.asgi import application


async def get_health():
    response = await HttpCommunicator(application, "GET", "/healthz", headers=[(b"host", b"127.0.0.1")]).get_response(timeout=15)
    return response["status"], json.loads(response["body"])


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_200_when_database_layer_and_worker_answer():
    status, body = await get_health()
    assert status == 200
    assert body["status"] == "ok" and body["down"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["vendor"] == "sqlite"
    assert body["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
    assert body["checks"]["worker"]["mode"] == "inline"


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_503_naming_the_worker_when_no_worker_answers(settings):
    settings.WORKER_MODE = "queue"  # nobody consumes the worker channel in this process
    settings.RPC_TIMEOUT = 0.5
    status, body = await get_health()
    assert status == 503
    assert body["down"] == ["worker"]
    assert body["checks"]["worker"]["error"].startswith("Timeout")


@pytest.mark.django_db(transaction=True)
async def test_healthz_is_503_naming_the_database_when_it_is_unreachable(settings):
    from django.db import connections

    # Every thread's connection is built from this one dict; the checks reconnect each time.
    shared = connections.settings["default"]
    original = shared["NAME"]
    shared["NAME"] = "/nonexistent/dir/db.sqlite3"
    try:
        status, body = await get_health()
    finally:
        shared["NAME"] = original
    assert status == 503
    assert "database" in body["down"]
