"""django-q2 tasks: thin wrappers the orchestrator (``qcluster``) runs.

A failed scan raises, so django-q2 lists the task under failures (it is not retried:
``max_attempts`` 1); the failure is recorded on the ``ScanRun`` and the tracker either way.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

from library.models import Library, ScanRun
from tracker import services as tracker_services

from . import services
from .scan import scanner

# Upkeep: tracker logs longer than this many actions are compacted to half of it (device
# players unused for settings.DEVICE_EXPIRY_DAYS days are deleted).
LOG_MAX_LENGTH = getattr(settings, "TRACKER_LOG_MAX_LENGTH", 1000)


def _result(scan) -> dict[str, Any]:
    if scan.status == "failed":
        raise RuntimeError(f"scan {scan.pk} of library {scan.library_id} failed: {scan.message}")
    return {"scan": scan.pk, "library": scan.library_id, "status": scan.status, "message": scan.message}


def run_scan(scan_id: int) -> dict[str, Any]:
    """Run the queued ScanRun ``scan_id`` (enqueued by ``services.scan_request``)."""
    try:
        return _result(scanner.run(scan_id))
    except ScanRun.DoesNotExist:  # its library was removed before the scan started
        return {"scan": scan_id, "status": "gone"}


def scheduled_scan(library_id: int) -> dict[str, Any] | None:
    """A library's scheduled scan: recorded with trigger "schedule" and run here."""
    library = Library.objects.filter(pk=library_id, enabled=True).first()
    if library is None or not library.scan_interval:
        return None
    return _result(services.scan_now(library, trigger="schedule"))


def upkeep() -> dict[str, int]:
    """Hourly: expire idle device players and compact long tracker logs."""
    return {
        "players_expired": tracker_services.expire_idle_players(settings.DEVICE_EXPIRY_DAYS),
        "actions_compacted": tracker_services.compact_logs(LOG_MAX_LENGTH),
    }
