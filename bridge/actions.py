"""Events the bridge itself sends."""
from __future__ import annotations

from pydantic import Field

from common.registry import Schema, registry

from . import presence  # noqa: F401  (declares the presence events)

# Bumped on every incompatible change of the WebSocket protocol (docs/protocol.md).
PROTOCOL_VERSION = 1


class WelcomeUser(Schema):
    id: int
    username: str
    is_staff: bool


class Welcome(Schema):
    protocol: int
    user: WelcomeUser
    connection: str = Field(min_length=1)


WELCOME = registry.event(
    "system.session.welcome",
    Welcome,
    doc="First frame on every authenticated connection: protocol version, who you are, the connection id.",
    audience="the connecting client",
)


class UserChanged(Schema):
    user: WelcomeUser


USER_CHANGED = registry.event(
    "system.session.user_changed",
    UserChanged,
    doc=(
        "Your account changed while connected (staff rights given or withdrawn): who you are now. "
        "The connection's rights follow at once (staff actions are refused to a user no longer staff)."
    ),
    audience="every connection of the user concerned",
)
