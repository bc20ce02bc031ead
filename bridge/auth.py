"""WebSocket handshake checks: Origin, then who is asking.

- A handshake with an ``Origin`` header must come from the server's own origin or a
  ``CSRF_TRUSTED_ORIGINS`` entry, or it is refused (HTTP 403). As in Django's CSRF check,
  scheme, host and port all count: the own origin is the handshake's scheme (``ws`` ->
  ``http``, ``wss`` -> ``https``) and its ``Host`` header (which must be in
  ``ALLOWED_HOSTS``), so a page on another port or scheme of the same host is refused.
- Browsers authenticate with the Django session cookie; that cookie is only honoured
  when a valid ``Origin`` is present (browsers always send one), so another site cannot
  ride a user's session.
- Other clients send ``Authorization: Token <key>`` (DRF tokens) and may omit Origin.

The consumer closes a connection whose user is anonymous with code 4401.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import is_same_domain

from bridge.tokens import token_user


def header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def own_origin(scope) -> str | None:
    """The origin the handshake was addressed to (``http://host:port``), or None when its
    ``Host`` header is missing or not in ``ALLOWED_HOSTS``."""
    host = header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return f"{scheme}://{host}"


def origin_allowed(origin: str, scope) -> bool:
    """Django's CSRF origin rule for a WebSocket handshake: the server's own origin, an
    exact ``CSRF_TRUSTED_ORIGINS`` entry, or a subdomain of a wildcard one (same scheme)."""
    if origin == own_origin(scope):
        return True
    csrf = CsrfViewMiddleware(lambda request: None)  # its trusted-origin lists follow the settings
    if origin in csrf.allowed_origins_exact:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return any(is_same_domain(parts.netloc, host) for host in csrf.allowed_origin_subdomains.get(parts.scheme, ()))


@database_sync_to_async
def user_for_token(key: str):
    user = token_user(key)
    return user if user is not None and user.is_active else AnonymousUser()


class HandshakeAuthMiddleware:
    """Origin check, then token or (with a valid Origin) session authentication."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.session_auth = CookieMiddleware(SessionMiddleware(AuthMiddleware(inner)))

    async def __call__(self, scope, receive, send):
        origin = header(scope, b"origin")
        if origin is not None and not origin_allowed(origin, scope):
            return await WebsocketDenier()(scope, receive, send)
        authorization = header(scope, b"authorization")
        if authorization is not None:
            scheme, _, key = authorization.partition(" ")
            user = AnonymousUser()
            if scheme.lower() == "token" and key.strip():
                user = await user_for_token(key.strip())
            return await self.inner(dict(scope, user=user, auth_method="token"), receive, send)
        if origin is not None:
            return await self.session_auth(dict(scope, auth_method="session"), receive, send)
        return await self.inner(dict(scope, user=AnonymousUser(), auth_method=None), receive, send)
