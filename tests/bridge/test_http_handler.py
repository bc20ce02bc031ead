"""The HTTP handler (``mediaproject.http``): long-lived request threads keeping their
database connections, requests beyond the threads waiting their turn, streamed bodies
sent whole, errors and an async view through the same path."""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import json

import pytest
from channels.testing import HttpCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created

from library.models import Album, Artist, Library, Track
from library.sample import make_sample_library
from mediaproject.http import DJANGO_REVIEWED, DJANGO_SOURCES, ThreadPoolASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("name", sorted(DJANGO_SOURCES))
def test_the_copied_django_methods_are_those_reviewed(name):
    """Fails when the installed Django changed a method ``mediaproject.http`` copies."""
    import django

    source = inspect.getsource(getattr(ASGIHandler, name))
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == DJANGO_SOURCES[name], (
        f"Django {django.__version__}'s ASGIHandler.{name} differs from the one in Django {DJANGO_REVIEWED} that "
        f"mediaproject.http.ThreadPoolASGIHandler copies: review the copy against it (fixes Django made there), "
        f"then update DJANGO_REVIEWED and DJANGO_SOURCES")


@pytest.fixture
def token(make_user, token_for):
    return token_for(make_user("listener"))


def get(handler, path: str, token: str | None = None):
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"application/json")]
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    return HttpCommunicator(handler, "GET", path, headers=headers).get_response(timeout=15)


@pytest.fixture
def opened():
    """Counts the database connections opened while a test runs."""
    count = {"n": 0}

    def note(sender, connection, **kwargs):
        count["n"] += 1

    connection_created.connect(note)
    yield count
    connection_created.disconnect(note)


async def test_a_thread_keeps_its_connection_across_requests(settings, monkeypatch, token, opened):
    settings.HTTP_THREADS = 1
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    handler = ThreadPoolASGIHandler()
    for _ in range(3):
        response = await get(handler, "/api/v1/genres/", token)
        assert response["status"] == 200
    assert opened["n"] == 1  # one connection for three requests (each reads the token)


async def test_without_a_max_age_each_request_opens_its_own(settings, token, opened):
    settings.HTTP_THREADS = 1
    handler = ThreadPoolASGIHandler()  # the in-process test settings keep no connection
    for _ in range(3):
        assert (await get(handler, "/api/v1/genres/", token))["status"] == 200
    assert opened["n"] == 3


async def test_more_requests_than_threads_wait_their_turn(settings, monkeypatch, token, opened):
    settings.HTTP_THREADS = 2
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    handler = ThreadPoolASGIHandler()
    responses = await asyncio.gather(*(get(handler, "/api/v1/genres/", token) for _ in range(7)))
    assert [r["status"] for r in responses] == [200] * 7
    assert 1 <= opened["n"] <= 2  # served by at most two threads, each with its one connection


async def test_errors_keep_their_shape(settings, token):
    handler = ThreadPoolASGIHandler()
    anonymous = await get(handler, "/api/v1/genres/")
    assert anonymous["status"] == 401
    assert json.loads(anonymous["body"])["error"]["code"]
    missing = await get(handler, "/api/v1/tracks/999999/", token)
    assert missing["status"] == 404
    assert json.loads(missing["body"])["error"]["code"] == "not_found"


async def test_an_async_view_runs_through_the_sync_chain():
    handler = ThreadPoolASGIHandler()
    response = await get(handler, "/healthz")
    assert response["status"] == 200
    assert json.loads(response["body"])["status"] == "ok"


async def fetch(handler, path: str, token: str, extra: list | None = None) -> tuple[dict, bytes]:
    """All of a response through the ASGI app: the start message and the body's chunks."""
    from asgiref.testing import ApplicationCommunicator

    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode()), *(extra or [])]
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": headers, "scheme": "http", "server": ("127.0.0.1", 80)}
    app = ApplicationCommunicator(handler, scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(15)
    body = b""
    while True:
        message = await app.receive_output(15)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start, body


@pytest.fixture
def flac(tmp_path):
    root = tmp_path / "music"
    sample = make_sample_library(root, count=1, seed=3, formats=["flac"]).tracks[0]
    library = Library.objects.create(name="Music", root=str(root))
    album = Album.objects.create(title="T", sort_title="t", album_artist=Artist.objects.create(name="A", sort_name="a"))
    track = Track.objects.create(library=library, path=sample.path, size=1, mtime_ns=1, fingerprint="x",
                                 format="flac", codec="flac", title="t", sort_title="t", album=album)
    return track.pk, (root / sample.path).read_bytes()


async def test_a_file_is_streamed_a_chunk_at_a_time_whole_and_in_ranges(flac, token, recwarn):
    track_id, data = flac
    handler = ThreadPoolASGIHandler()
    start, body = await fetch(handler, f"/api/v1/tracks/{track_id}/stream", token)
    assert start["status"] == 200 and body == data
    start, body = await fetch(handler, f"/api/v1/tracks/{track_id}/stream", token, [(b"range", b"bytes=100-299")])
    assert start["status"] == 206 and body == data[100:300]
    # Django reads a sync iterator whole before sending and says so; ours is async.
    assert not [w for w in recwarn if "consume synchronous iterators" in str(w.message)]


async def test_a_stream_stops_when_the_client_goes_away_and_is_closed_on_its_thread(flac, token):
    """A client that leaves mid-stream: sending stops, and the response is closed (the
    ``request_finished`` signal: database connections put back) on the request's thread."""
    import threading

    from django.core.signals import request_finished

    track_id, data = flac
    handler = ThreadPoolASGIHandler()
    handler.chunk_size = 1024  # many chunks
    path = f"/api/v1/tracks/{track_id}/stream"
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Token {token}".encode())],
             "scheme": "http", "server": ("127.0.0.1", 80)}
    gone, sent, finished_on = asyncio.Event(), [], []
    requests = iter([{"type": "http.request", "body": b""}])

    async def receive():
        try:
            return next(requests)
        except StopIteration:
            await gone.wait()
            return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body":
            gone.set()  # the client leaves after the first chunk...
            await asyncio.sleep(3600)  # ...and never reads another

    def note(**kwargs):
        finished_on.append(threading.current_thread().name)

    request_finished.connect(note)
    try:
        await asyncio.wait_for(handler(scope, receive, send), 15)
    finally:
        request_finished.disconnect(note)
    assert sent[0]["status"] == 200
    assert len(sent) == 2 < len(data) // 1024  # the start and one chunk of many
    assert len(finished_on) == 1 and finished_on[0].startswith("http-")
