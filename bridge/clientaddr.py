"""Who is calling, by network address: the one rule every throttle, lockout and log line uses.

With no ``TRUSTED_PROXIES`` (the default) the connecting socket's address is the client and
``X-Forwarded-For`` / ``X-Forwarded-Proto`` are ignored: anyone can write them. Behind listed
proxies, ``X-Forwarded-For`` is read from the right (the hop each proxy appended) while the hop
is a trusted proxy; the first address that is not one is the client. Left of it, everything was
written by the client itself and is never read.

daphne runs without ``--proxy-headers`` (``manage.py serve``, the Procfile): its rule takes
the *left-most* ``X-Forwarded-For`` address, which the client writes, and it trusts every peer.
:class:`ProxyHeadersMiddleware` applies this module's rule instead, once per connection, so
``scope["client"]`` (Django's ``REMOTE_ADDR``) and ``scope["scheme"]`` are the real ones behind
a trusted proxy and untouched otherwise. :func:`client_address` is idempotent, so reading a
request that already went through the middleware gives the same answer.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

UNKNOWN = "0.0.0.0"  # no peer address (a Unix socket, a test without one)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str) -> bool:
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _hop(raw: str) -> str:
    """One ``X-Forwarded-For`` entry as a plain address (``[::1]:80`` and ``1.2.3.4:80`` lose the port)."""
    hop = raw.strip().strip('"')
    if hop.startswith("["):
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def resolve(peer: str | None, forwarded_for: list[str]) -> str:
    """The client's address from the socket peer and the ``X-Forwarded-For`` header values
    (in order; each may hold a comma-separated list)."""
    client = peer or UNKNOWN
    if not _trusted(client):
        return client
    hops = [_hop(part) for value in forwarded_for for part in value.split(",") if part.strip()]
    for hop in reversed(hops):
        client = hop
        if not _trusted(hop):
            break
    return client


def client_address(request) -> str:
    """The client's address for a Django (or DRF) request."""
    meta = request.META
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    return resolve(meta.get("REMOTE_ADDR"), [forwarded] if forwarded else [])


def _headers(scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name]


def scope_client_address(scope) -> str:
    """The client's address for an ASGI scope (HTTP or WebSocket)."""
    peer = (scope.get("client") or (None,))[0]
    return resolve(peer, _headers(scope, b"x-forwarded-for"))


class ProxyHeadersMiddleware:
    """ASGI step: behind a trusted proxy, ``scope["client"]`` becomes the client (by
    :func:`resolve`) and ``scope["scheme"]`` follows ``X-Forwarded-Proto``; from any other
    peer the scope is left as the server saw it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            peer = (scope.get("client") or (None,))[0]
            if peer and _trusted(peer):
                scope = dict(scope, client=(scope_client_address(scope), 0))
                proto = (_headers(scope, b"x-forwarded-proto") or [""])[-1].split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        return await self.app(scope, receive, send)
