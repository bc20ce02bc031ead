"""Shared fixtures: users, tokens and WebSocket clients on the real ASGI application."""
from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from devtools.wsclient import EventWaiter


def pytest_generate_tests(metafunc):
    """Tests marked ``asgi`` run twice: their HTTP clients (fixtures that take ``transport``)
    send through Django's test client, then through the real ASGI application."""
    if "transport" in metafunc.fixturenames and metafunc.definition.get_closest_marker("asgi"):
        metafunc.parametrize("transport", ["test client", "asgi"])


@pytest.fixture
def transport() -> str:
    """How the HTTP client fixtures send: ``"test client"`` (Django's), or ``"asgi"`` for tests
    marked ``asgi`` (see ``pytest_generate_tests``)."""
    return "test client"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: throttles count failures there."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(django_user_model):
    def make(username: str = "alice", *, staff: bool = False, password: str = "correct horse battery"):
        return django_user_model.objects.create_user(username=username, password=password, is_staff=staff)

    return make


@pytest.fixture
def token_for():
    from rest_framework.authtoken.models import Token

    def make(user) -> str:
        return Token.objects.get_or_create(user=user)[0].key

    return make


class Client(EventWaiter):
    """A WebSocket client on the real ASGI app that speaks the envelope."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.welcome: dict | None = None
        self.events: list[dict] = []
        self._next = 0

    async def connect(self) -> "Client":
        connected, _ = await self.communicator.connect()
        assert connected
        self.welcome = await self.communicator.receive_json_from(timeout=5)
        assert self.welcome["event"] == "system.session.welcome", self.welcome
        return self

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 5) -> dict:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def reply_to(self, request_id, timeout: float = 5) -> dict:
        """The reply with this id; events that arrive first are kept in ``events``."""
        while True:
            frame = await self.receive(timeout)
            if "event" in frame:
                self.events.append(frame)
                continue
            if frame.get("id") == request_id:
                return frame
            raise AssertionError(f"unexpected frame {frame}")

    async def request(self, action: str, payload: dict | None = None, timeout: float = 5) -> dict:
        self._next += 1
        request_id = f"r{self._next}"
        frame = {"id": request_id, "action": action}
        if payload is not None:
            frame["payload"] = payload
        await self.send_raw(json.dumps(frame))
        return await self.reply_to(request_id, timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


@database_sync_to_async
def _token_key(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
async def ws_client():
    """``await ws_client(user)`` -> a connected Client authenticated by token."""
    from mediaproject.asgi import application

    opened: list[Client] = []

    async def open_client(user=None, *, headers=None, connect=True) -> Client:
        if headers is None:
            headers = [(b"authorization", f"Token {await _token_key(user)}".encode())]
        client = Client(WebsocketCommunicator(application, "/ws/", headers=headers))
        opened.append(client)
        if connect:
            await client.connect()
        return client

    yield open_client
    for client in opened:
        try:
            await client.close()
        except Exception:
            pass


@pytest.fixture(autouse=True, scope="session")
def _subsonic_answers_within_schema():
    """Every ``/rest/`` answer a test receives, from Django's test client (also through the
    ASGI application) or over HTTP with ``urllib`` (live servers, py-sonic), is checked
    against the official Subsonic/OpenSubsonic schemas (``tests/subsonic/schema.py``)."""
    import gzip
    import io
    import urllib.parse
    import urllib.request
    import urllib.response

    from django.test.client import Client as DjangoClient

    from tests.subsonic import schema

    def body_of(content: bytes, encoding: str | None) -> bytes:
        return gzip.decompress(content) if (encoding or "").lower() == "gzip" else content

    original_request = DjangoClient.request

    def request(self, **kwargs):
        response = original_request(self, **kwargs)
        path = kwargs.get("PATH_INFO", "")
        if path.startswith("/rest/") and not getattr(response, "streaming", False):
            schema.check_http(path, response.get("Content-Type", ""),
                              body_of(response.content, response.get("Content-Encoding")))
        return response

    original_open = urllib.request.OpenerDirector.open

    def open_(self, fullurl, *args, **kwargs):
        response = original_open(self, fullurl, *args, **kwargs)
        url = fullurl if isinstance(fullurl, str) else fullurl.full_url
        path = urllib.parse.urlsplit(url).path
        content_type = response.headers.get("Content-Type", "")
        if not path.startswith("/rest/") or not content_type.startswith(("text/xml", "application/json", "application/javascript")):
            return response
        raw = response.read()
        response.close()
        schema.check_http(path, content_type, body_of(raw, response.headers.get("Content-Encoding")))
        return urllib.response.addinfourl(io.BytesIO(raw), response.headers, url, response.status)

    DjangoClient.request = request
    urllib.request.OpenerDirector.open = open_
    try:
        yield
    finally:
        DjangoClient.request = original_request
        urllib.request.OpenerDirector.open = original_open
