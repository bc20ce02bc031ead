"""What a scan tells others: the library's ``library.scan`` tracker and the staff events.

Progress and the lifecycle (``library.scan.begin|report|complete|halt|fail``) are server
actions on the library's scan tracker (``dispatch``; a refusal is logged, never fatal to
the scan). The tracker, which every user reads, gets messages through
``reader_message``, without filesystem paths (the library's folder is named by the
library, paths inside it are relative); the ``ScanRun`` (read by staff only) keeps the
whole text.

Events, to group ``staff`` (every staff connection): ``library.scan.started``,
``library.scan.completed`` (also for a cancelled scan, with ``status`` "cancelled") and
``library.scan.failed``. They are derived from the scan tracker's lifecycle actions
(``begin`` / ``complete`` + ``halt`` / ``fail``) by one mapping, ``lifecycle_event``, used
by the scanner (``announce``: broadcast after commit) and by the embedded bridge's
tracker-log tail (``bridge/tail.py``), which republishes them when the scan ran in another
process.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Annotated, Any, Literal

from django.db import transaction
from pydantic import StringConstraints

from common import groups
from common.clients import get_broadcast_client
from common.errors import BusError
from common.registry import Schema, registry
from library.models import Library, ScanRun
from tracker import store
from tracker.models import Tracker, TrackerAction
from tracker.reducers.scan import SCAN

logger = logging.getLogger(__name__)

SCAN_KIND = "library.scan"
Text = Annotated[str, StringConstraints(max_length=2000)]


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

# Tracker action -> staff event.
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
        state = Tracker.objects.filter(pk=tracker_id, kind=SCAN_KIND).values_list("state", flat=True).first() or {}
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


_ABSOLUTE_PATH = re.compile(r"""(?<![\w.~])/[^\s'"]+""")


def reader_message(message: str, library: Library) -> str:
    """``message`` as every user may read it: the library's folder (as configured or
    resolved) replaced by the library's name, paths inside it made relative, and any other
    absolute path left out."""
    for root in sorted({library.root.rstrip("/"), os.path.realpath(library.root)}, key=len, reverse=True):
        if root:
            message = message.replace(root + "/", "").replace(root, f'"{library.name}"')
    return _ABSOLUTE_PATH.sub("…", message)


def tracker_for(library: Library) -> Tracker:
    """The library's ``library.scan`` tracker (created on first use)."""
    return store.get_or_create(SCAN_KIND, owner=None, key=str(library.pk))


def cancel_requested(tracker_id) -> bool:
    """A cancel was asked: the scan tracker is ``cancelling``."""
    state = Tracker.objects.filter(pk=tracker_id).values_list("state", flat=True).first() or {}
    return state.get("status") == "cancelling"


def dispatch(tracker_id, name: str, payload: dict[str, Any]) -> None:
    """A server action on the scan tracker; a refusal is logged, never fatal to the scan."""
    try:
        store.dispatch(tracker_id, name, payload, actor=None)
    except BusError as exc:  # refused (a state that does not allow it) or the tracker is gone
        logger.warning("could not dispatch %s on scan tracker %s: %s", name, tracker_id, exc.message)
    except Exception:  # noqa: BLE001
        logger.exception("could not dispatch %s on scan tracker %s", name, tracker_id)


def announce(action: str, scan: ScanRun) -> None:
    """The staff event of a tracker lifecycle action, broadcast after commit."""
    transaction.on_commit(lambda: broadcast_lifecycle(action, scan))
