"""Interceptors: functions ``(message, spec) -> message`` run before a handler.

They check the context (raise a ``BusError``) or augment it (return a new message).
Two stages:

- ``edge``: in the bridge, before the message is forwarded; pure, no database.
- ``handler``: where the handler runs (inline or in a worker), may use the database.

Adding one is a one-line registration: ``interceptors.handler(resolve_tracker)``.
"""
from __future__ import annotations

from typing import Callable

from .errors import Forbidden, Unauthenticated
from .messages import Message
from .registry import ActionSpec, Permission

Interceptor = Callable[[Message, ActionSpec], Message]

EDGE: list[Interceptor] = []
HANDLER: list[Interceptor] = []


def edge(fn: Interceptor) -> Interceptor:
    if fn not in EDGE:
        EDGE.append(fn)
    return fn


def handler(fn: Interceptor) -> Interceptor:
    if fn not in HANDLER:
        HANDLER.append(fn)
    return fn


def run(chain: list[Interceptor], message: Message, spec: ActionSpec) -> Message:
    for interceptor in chain:
        message = interceptor(message, spec)
    return message


@edge
def authenticate(message: Message, spec: ActionSpec) -> Message:
    """Client messages need a user; server-dispatched ones (via="server") carry none."""
    if message.context.via != "server" and message.context.user_id is None:
        raise Unauthenticated()
    return message


@edge
def check_permission(message: Message, spec: ActionSpec) -> Message:
    """The action's declared permission against the caller."""
    if message.context.via == "server":
        return message
    if spec.permission is Permission.SERVER:
        raise Forbidden(f"{spec.name} is dispatched by the server only.")
    if spec.permission is Permission.STAFF and not message.context.is_staff:
        raise Forbidden(f"{spec.name} needs a staff account.")
    return message
