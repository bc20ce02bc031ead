"""Scan actions on the bus, and the staff events about scans.

- ``library.scan.start {library, full?}`` (staff): queue a scan of a library; the
  orchestrator runs it. Progress is on the library's ``library.scan`` tracker.
- ``library.scan.cancel {library}`` (staff): stop the running scan at its next batch
  (and drop queued ones).

Events, to group ``staff`` (every staff connection): ``library.scan.started``,
``library.scan.completed`` (also for a cancelled scan, with ``status`` "cancelled") and
``library.scan.failed``. They are derived from the scan tracker's lifecycle actions
(``begin`` / ``complete`` + ``halt`` / ``fail``) by one mapping, ``lifecycle_event``, used
by the scanner (broadcast after commit) and by the embedded bridge's tracker-log tail
(``bridge/tail.py``), which republishes them when the scan ran in another process.
"""
from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import StringConstraints

from common import bounds, groups
from common.clients import get_broadcast_client
from common.messages import Message
from common.registry import Permission, Schema, registry
from library.models import ScanRun
from tracker.models import Tracker, TrackerAction
from tracker.reducers.scan import SCAN

from . import services

logger = logging.getLogger(__name__)

LibraryId = bounds.Id
Text = Annotated[str, StringConstraints(max_length=2000)]


class ScanStart(Schema):
    library: LibraryId
    full: bool = False


class ScanCancel(Schema):
    library: LibraryId


class ScanStartedEvent(Schema):
    library: int
    scan: int
    trigger: str
    full: bool


class ScanCompletedEvent(Schema):
    library: int
    scan: int
    status: Literal["completed", "cancelled"]
    files_seen: int
    parsed: int
    added: int
    updated: int
    removed: int
    unchanged: int
    errors: int
    message: Text


class ScanFailedEvent(Schema):
    library: int
    scan: int
    message: Text


SCAN_STARTED = registry.event(
    "library.scan.started", ScanStartedEvent,
    doc="A library scan began (its progress is on the library's `library.scan` tracker).",
    audience="staff users (group staff)",
)
SCAN_COMPLETED = registry.event(
    "library.scan.completed", ScanCompletedEvent,
    doc="A library scan finished (`status` completed) or stopped after a cancel (`status` cancelled), with its counts.",
    audience="staff users (group staff)",
)
SCAN_FAILED = registry.event(
    "library.scan.failed", ScanFailedEvent,
    doc="A library scan failed; `message` says why.",
    audience="staff users (group staff)",
)

# Scan tracker action -> the staff event it announces (declared with the action).
LIFECYCLE = {action.name: action.staff_event for action in SCAN.actions if action.staff_event}


def lifecycle_event(action: str, scan) -> tuple[str, dict[str, Any]] | None:
    """The staff event (name, payload) for a scan tracker's lifecycle action about ``scan`` (a ScanRun)."""
    event = LIFECYCLE.get(action)
    if event is None or scan is None:
        return None
    base = {"library": scan.library_id, "scan": scan.pk}
    if event == SCAN_STARTED.name:
        return event, {**base, "trigger": scan.trigger, "full": bool(scan.full)}
    if event == SCAN_FAILED.name:
        return event, {**base, "message": (scan.message or "The scan failed.")[:2000]}
    return event, {
        **base,
        "status": "cancelled" if action == "library.scan.halt" else "completed",
        "files_seen": scan.files_seen, "parsed": scan.parsed, "added": scan.added, "updated": scan.updated,
        "removed": scan.removed, "unchanged": scan.unchanged, "errors": scan.error_count,
        "message": (scan.message or "")[:2000],
    }


def lifecycle_event_for_log(tracker_id: Any, version: int, action: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The staff event for a logged tracker action (the embedded log tail), or None. Reads the database."""
    if action not in LIFECYCLE:
        return None
    scan_id = payload.get("scan_id") if action == "library.scan.begin" else None
    if scan_id is None:
        begin = (TrackerAction.objects.filter(tracker_id=tracker_id, name="library.scan.begin", version__lt=version)
                 .order_by("-version").values_list("payload", flat=True).first())
        if begin:
            scan_id = begin.get("scan_id")
    if scan_id is None:  # the log was compacted: the state names the scan
        state = Tracker.objects.filter(pk=tracker_id, kind="library.scan").values_list("state", flat=True).first() or {}
        scan_id = state.get("scan_id")
    scan = ScanRun.objects.filter(pk=scan_id).first() if scan_id else None
    return lifecycle_event(action, scan)


def broadcast_lifecycle(action: str, scan) -> None:
    """Send the staff event of a lifecycle action (lossy like every broadcast; never raises)."""
    try:
        found = lifecycle_event(action, scan)
        if found is not None:
            get_broadcast_client().broadcast_sync(groups.STAFF, *found)
    except Exception:  # noqa: BLE001
        logger.exception("could not broadcast the %s event of scan %s", action, getattr(scan, "pk", None))


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
