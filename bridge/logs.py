"""What the server writes to its log: secrets redacted, clients named by ``bridge.clientaddr``.

Subsonic clients send secrets in the query string (``p`` a password, ``t`` + ``s`` a token and
its salt, ``apiKey``), and other clients may send ``password``, ``token`` and the like. The one
rule, :func:`redact`, replaces the value of every such parameter with ``[redacted]``;
:class:`RedactingFormatter`, installed on every handler in ``settings.LOGGING``, applies it to
each whole line (tracebacks included), whichever logger wrote it.

The access log is the server's own (logger ``bridge.access``, at INFO), written by
:class:`AccessLogMiddleware` around the ASGI application: one line per HTTP request and per
WebSocket connect, reject and disconnect, naming the client by :func:`scope_client_address`.
daphne's own access log, which prints whole query strings and the left-most
``X-Forwarded-For`` address, is off (``-v 0`` in ``manage.py serve`` and the Procfile).
"""
from __future__ import annotations

import logging
import re
import time

from .clientaddr import scope_client_address

REDACTED = "[redacted]"
# Parameter names whose values are secrets: Subsonic's exactly, password/token-like ones by substring.
_SECRET_EXACT = r"p|t|s|apiKey|key"
_SECRET_LIKE = r"[\w.-]*(?:pass|pwd|token|secret|apikey|api_key|sessionid|credential)[\w.-]*"
_PARAMETER = re.compile(
    rf"(?P<name>(?:^|(?<=[?&;\s\"']))(?:{_SECRET_EXACT}|(?i:{_SECRET_LIKE}))=)(?P<value>[^&;\s\"']*)"
)

access_logger = logging.getLogger("bridge.access")


def redact(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced by ``[redacted]``."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(lambda match: match.group("name") + REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose every formatted line goes through :func:`redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _target(scope) -> str:
    path = scope.get("path", "")
    query = scope.get("query_string", b"")
    return f"{path}?{redact(query.decode('latin-1'))}" if query else path


class AccessLogMiddleware:
    """ASGI step: the access log line of each HTTP request and WebSocket connection."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind not in ("http", "websocket") or not access_logger.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        started = time.monotonic()
        state = {"status": None, "size": 0, "accepted": False}

        async def logged_send(message):
            kind_ = message["type"]
            if kind_ == "http.response.start":
                state["status"] = message["status"]
            elif kind_ == "http.response.body":
                state["size"] += len(message.get("body", b""))
            elif kind_ == "websocket.accept":
                state["accepted"] = True
                self._line(scope, "WSCONNECT")
            elif kind_ == "websocket.close" and not state["accepted"]:
                state["accepted"] = None  # rejected: no disconnect line follows
                self._line(scope, "WSREJECT")
            await send(message)

        logged_send.__wrapped__ = send  # so flow control finds daphne's transport (bridge.ws.transport)
        try:
            await self.app(scope, receive, logged_send)
        finally:
            if kind == "http":
                self._line(scope, scope.get("method", "GET"), state["status"] or "-", state["size"],
                           time.monotonic() - started)
            elif state["accepted"]:
                self._line(scope, "WSDISCONNECT", duration=time.monotonic() - started)

    @staticmethod
    def _line(scope, verb: str, status="-", size="-", duration: float | None = None) -> None:
        took = f" {duration * 1000:.1f}ms" if duration is not None else ""
        access_logger.info('%s "%s %s" %s %s%s', scope_client_address(scope), verb, _target(scope), status, size, took)
