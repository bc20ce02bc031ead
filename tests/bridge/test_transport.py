"""Flow control must see daphne's transport through every ASGI step the project wraps
around the application: if a step hides it, back-pressure and direct writes switch off
without a word (streams would buffer whole files, group events would go the slow way)."""
from __future__ import annotations

import functools

import pytest

from bridge.clientaddr import ProxyHeadersMiddleware
from bridge.logs import AccessLogMiddleware
from bridge.ws.transport import find_protocol


class FakeProtocol:
    transport = object()


async def handle_reply(protocol, message):  # daphne's Server.handle_reply, as daphne binds it
    return None


@pytest.mark.parametrize("scope_type", ["http", "websocket"])
async def test_the_protocol_is_found_through_the_projects_asgi_steps(scope_type):
    protocol = FakeProtocol()
    found = []

    async def inner(scope, receive, send):
        found.append(find_protocol(send))

    app = ProxyHeadersMiddleware(AccessLogMiddleware(inner))
    scope = {"type": scope_type, "path": "/x", "query_string": b"", "headers": [], "client": ("127.0.0.1", 1)}
    await app(scope, None, functools.partial(handle_reply, protocol))
    assert found == [protocol]


def test_a_send_that_names_no_transport_gives_none():
    async def send(message):
        return None

    assert find_protocol(send) is None
