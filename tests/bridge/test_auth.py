"""The WebSocket handshake's Origin check (``bridge.auth.origin_allowed``), as Django's CSRF check does it."""
from __future__ import annotations

import pytest
from django.test import override_settings

from bridge.auth import origin_allowed


def scope(host: str | None, scheme: str = "ws") -> dict:
    headers = [(b"host", host.encode())] if host is not None else []
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.mark.parametrize(
    "origin, host, scheme",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
        ("http://localhost", "localhost", "ws"),
        ("https://localhost", "localhost", "wss"),
        ("https://localhost:8443", "localhost:8443", "wss"),
        ("http://[::1]:8000", "[::1]:8000", "ws"),
    ],
)
def test_the_servers_own_origin_is_allowed(origin, host, scheme):
    assert origin_allowed(origin, scope(host, scheme))


@pytest.mark.parametrize(
    "origin, host, scheme",
    [
        ("http://127.0.0.1:9000", "127.0.0.1:8000", "ws"),  # another port of the same host
        ("http://127.0.0.1", "127.0.0.1:8000", "ws"),  # the default port is another port
        ("https://127.0.0.1:8000", "127.0.0.1:8000", "ws"),  # another scheme
        ("http://localhost:8443", "localhost:8443", "wss"),  # plain page, TLS socket
        ("http://localhost:8000", "127.0.0.1:8000", "ws"),  # another (even allowed) host
        ("http://evil.example:8000", "127.0.0.1:8000", "ws"),
        ("http://[::1]:9000", "[::1]:8000", "ws"),
        ("http://[::2]:8000", "[::1]:8000", "ws"),
        ("null", "127.0.0.1:8000", "ws"),
        ("file://", "127.0.0.1:8000", "ws"),
        ("http://evil.example", "evil.example", "ws"),  # a Host not in ALLOWED_HOSTS is nobody's origin
        ("http://127.0.0.1:8000", None, "ws"),  # no Host header: nothing to compare with
        ("http://[::1", "127.0.0.1:8000", "ws"),  # unparseable
    ],
)
def test_other_origins_are_refused(origin, host, scheme):
    assert not origin_allowed(origin, scope(host, scheme))


@override_settings(
    ALLOWED_HOSTS=["127.0.0.1"],
    CSRF_TRUSTED_ORIGINS=["https://music.example.org", "https://*.example.net", "http://[::1]:8080"],
)
@pytest.mark.parametrize(
    "origin, allowed",
    [
        ("https://music.example.org", True),
        ("http://music.example.org", False),  # the scheme counts
        ("https://music.example.org:8443", False),  # so does the port
        ("https://a.example.net", True),  # wildcard subdomains, as Django's CSRF check allows
        ("https://a.b.example.net", True),
        ("https://example.net", True),
        ("http://a.example.net", False),
        ("https://a.example.net:8443", False),
        ("https://evil-example.net", False),
        ("http://[::1]:8080", True),
        ("http://[::1]:8081", False),
    ],
)
def test_trusted_origins(origin, allowed):
    assert origin_allowed(origin, scope("127.0.0.1:8000")) is allowed
