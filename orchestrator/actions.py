"""Scan actions on the bus.

- ``library.scan.start {library, full?}`` (staff): queue a scan of a library; the
  orchestrator runs it. Progress is on the library's ``library.scan`` tracker.
- ``library.scan.cancel {library}`` (staff): stop the running scan at its next batch
  (and drop queued ones).

The staff events about scans (``library.scan.started|completed|failed``) are declared
with the scan's tracker dispatch in ``orchestrator.scan.events``.
"""
from __future__ import annotations

from common import bounds
from common.messages import Message
from common.registry import Permission, Schema, registry

from . import services

LibraryId = bounds.Id


class ScanStart(Schema):
    library: LibraryId
    full: bool = False


class ScanCancel(Schema):
    library: LibraryId


@registry.action("library.scan.start", ScanStart, permission=Permission.STAFF,
                 doc="Queue a scan of a library (`full`: re-read every file). Follow it on the library's scan tracker.")
def start(message: Message) -> dict:
    scan = services.scan_request(message.payload["library"], trigger="api", user=message.context.user_id,
                                 full=message.payload.get("full", False))
    tracker = services.scan_tracker(scan.library)
    return {"library": scan.library_id, "scan": scan.pk, "status": scan.status, "tracker": str(tracker.pk)}


@registry.action("library.scan.cancel", ScanCancel, permission=Permission.STAFF,
                 doc="Stop the running scan of a library at its next batch, and drop its queued scans.")
def cancel(message: Message) -> dict:
    return services.scan_cancel(message.payload["library"], actor=message.context.user_id)
