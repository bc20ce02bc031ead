"""The error catalogue: every error any interface reports has one of these stable codes.

Raise a ``BusError`` subclass anywhere below an interface; each interface (WebSocket
reply, REST handler, Subsonic envelope) has exactly one place that formats it.
"""
from __future__ import annotations

from typing import Any


class BusError(Exception):
    """An error with a stable code and a message that says what to do."""

    code: str = "internal"
    default_message: str = "The server failed to handle the request; try again later."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return error


class BadRequest(BusError):
    code = "bad_request"
    default_message = 'Send a JSON object: {"id": ..., "action": "<name>", "payload": {...}}.'


class UnknownAction(BusError):
    code = "unknown_action"
    default_message = "No such action; see the protocol document for the list."


class InvalidPayload(BusError):
    code = "invalid_payload"
    default_message = "The payload does not match the action's schema."


class Unauthenticated(BusError):
    code = "unauthenticated"
    default_message = "Log in, or send 'Authorization: Token <key>'."


class Forbidden(BusError):
    code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(BusError):
    code = "not_found"
    default_message = "No such object."


class Conflict(BusError):
    code = "conflict"
    default_message = "The object changed or is in a state that does not allow this; reload it and try again."


class RateLimited(BusError):
    code = "rate_limited"
    default_message = "Too many requests; slow down and retry shortly."


class TooLarge(BusError):
    code = "too_large"
    default_message = "The message is larger than the server accepts."


class Timeout(BusError):
    code = "timeout"
    default_message = "No worker answered in time; try again."


class Unavailable(BusError):
    code = "unavailable"
    default_message = "A service the server needs is down; try again later."


class Internal(BusError):
    code = "internal"


ERRORS: dict[str, type[BusError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        UnknownAction,
        InvalidPayload,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        RateLimited,
        TooLarge,
        Timeout,
        Unavailable,
        Internal,
    )
}
ERROR_CODES: tuple[str, ...] = tuple(ERRORS)


def error_from_dict(error: dict[str, Any]) -> BusError:
    """Rebuild an error sent over the bus (an unknown code becomes ``internal``)."""
    cls = ERRORS.get(error.get("code", ""), Internal)
    return cls(error.get("message"), details=error.get("details"))
