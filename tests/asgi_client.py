"""Django's test clients sent through the real ASGI application instead of Django's test handler.

``through_asgi(client)`` makes a ``django.test.Client`` (or DRF's ``APIClient``) send each
request to ``mediaproject.asgi.application``: the project's ASGI steps (client address,
access log, static files), ``mediaproject.http.ThreadPoolASGIHandler`` with its request
threads, and Django's middleware, as daphne would run them. The response is read whole into
an ``HttpResponse`` (a streamed body too), so the tests' assertions read it as usual.

Database connections are per thread, so a request thread would not see what the test wrote
inside its transaction: while a request of this client runs, a ``request_started`` receiver
hands the request thread the test's connections (shared for the request's length, as
Django's live-server tests share them) and ``request_finished`` gives the thread its own
back. As Django's test handlers do, ``close_old_connections`` is left out for the request:
it would close the test's connection in the middle of its transaction.
"""
from __future__ import annotations

import asyncio
import threading
from http.cookies import SimpleCookie

from asgiref.sync import async_to_sync
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.http import HttpResponse
from django.test.client import conditional_content_removal


def _header_bytes(value: str) -> bytes:
    """A header value as a client sends it: Latin-1, or UTF-8 for what Latin-1 cannot hold."""
    try:
        return value.encode("latin1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def scope_of(environ: dict) -> tuple[dict, bytes]:
    """The ASGI HTTP scope and body of a request the test client built as a WSGI environ."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if value != "":
            headers.append((name.lower().replace("_", "-").encode("latin1"), _header_bytes(str(value))))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    raw_path = environ["PATH_INFO"].encode("latin1")  # WSGI carries the path's bytes as Latin-1
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": environ["REQUEST_METHOD"].upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": raw_path.decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": environ.get("QUERY_STRING", "").encode("latin1"),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": (environ.get("SERVER_NAME", "testserver"), int(environ.get("SERVER_PORT", 80))),
    }
    return scope, body


_lent = threading.local()  # per request thread: its own connections while it uses the test's


def _lend_connections(test_connections: dict):
    def lend(**kwargs) -> None:
        _lent.own = {alias: connections[alias] for alias in test_connections}
        for alias, connection in test_connections.items():
            connections[alias] = connection

    return lend


def _give_back(**kwargs) -> None:
    own = getattr(_lent, "own", None)
    if own is not None:
        for alias, connection in own.items():
            connections[alias] = connection
        _lent.own = None


async def _call(application, scope: dict, body: bytes) -> tuple[int, list, bytes]:
    sent: list[dict] = []
    received = False
    complete = asyncio.Event()

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()  # the client reads the whole response, then goes away
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            complete.set()

    await application(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    content = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], start.get("headers", []), content


class ASGIHandler:
    """A stand-in for the test client's ``handler``: runs the real ASGI application."""

    def __call__(self, environ: dict) -> HttpResponse:
        from mediaproject.asgi import application

        scope, body = scope_of(environ)
        shared = {connection.alias: connection for connection in connections.all(initialized_only=True)}
        for connection in shared.values():
            connection.inc_thread_sharing()
        lend = _lend_connections(shared)
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        request_started.connect(lend)
        request_finished.connect(_give_back)
        try:
            status, headers, content = async_to_sync(_call)(application, scope, body)
        finally:
            request_started.disconnect(lend)
            request_finished.disconnect(_give_back)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            for connection in shared.values():
                connection.dec_thread_sharing()
        response = HttpResponse(content, status=status)
        del response["Content-Type"]
        for name, value in headers:
            name, value = name.decode("latin1"), value.decode("latin1")
            if name.lower() == "set-cookie":
                response.cookies.update(SimpleCookie(value))
            elif name in response:
                response[name] = f"{response[name]}, {value}"
            else:
                response[name] = value
        request = WSGIRequest(environ)
        conditional_content_removal(request, response)
        response.wsgi_request = request
        return response


def through_asgi(client):
    """``client`` (a Django or DRF test client), its requests now sent to the real ASGI application."""
    client.handler = ASGIHandler()
    return client
