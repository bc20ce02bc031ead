"""System actions handled by the worker."""
from __future__ import annotations

from django.conf import settings
from pydantic import Field

from common import groups
from common.clients import get_broadcast_client
from common.messages import Message
from common.process import process_id
from common.registry import Empty, Permission, Schema, registry


@registry.action("system.health.ping", Empty, doc="Check that a worker answers; says which process handled it.")
def ping(message: Message) -> dict:
    return {"pong": True, "handled_by": process_id(), "mode": settings.WORKER_MODE}


class AnnouncementPayload(Schema):
    text: str = Field(min_length=1, max_length=500)


ANNOUNCEMENT_CREATED = registry.event(
    "system.announcement.created",
    AnnouncementPayload,
    doc="A staff member's announcement (maintenance, restarts) shown to every connected user.",
    audience="every connected user",
)


@registry.action(
    "system.announcement.send",
    AnnouncementPayload,
    permission=Permission.STAFF,
    doc="Send an announcement to every connected user.",
)
def announce(message: Message) -> dict:
    get_broadcast_client().broadcast_sync(groups.EVERYONE, ANNOUNCEMENT_CREATED.name, {"text": message.payload["text"]})
    return {"sent": True}
