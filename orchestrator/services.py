"""What the orchestrator offers the rest of the server: libraries, scan requests, cancels.

- ``scan_request(library, trigger=..., user=None, full=False)`` records a queued
  ``ScanRun`` and enqueues the django-q2 task ``orchestrator.tasks.run_scan`` with its id
  (after commit); the orchestrator (``qcluster``) runs it. ``scan_now`` runs one in this
  process instead (the ``scan`` command, scheduled scans already inside the cluster).
- A second scan of a library while one runs does not run: ``scan_request`` refuses it
  (``Conflict``) while the lease is held, and a scan that still gets to the scanner
  cannot take the library's lease and is marked cancelled, saying which scan holds it.
- ``scan_cancel(library)`` asks the running scan to stop at its next batch (tracker
  action ``library.scan.cancel``) and cancels queued ones.
- ``library_add`` / ``library_remove`` / ``libraries``; the schedules follow every save
  and delete of a library (signals in ``orchestrator.apps``).
"""
from __future__ import annotations

import os
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_q.tasks import async_task

from common.errors import Conflict, InvalidPayload, NotFound
from library.models import Library, ScanRun
from tracker import store
from tracker.models import Tracker

from . import scanner, schedules

TASK = "orchestrator.tasks.run_scan"


def get_library(ref: Library | int | str) -> Library:
    """A library by instance, id or name; ``NotFound`` otherwise."""
    if isinstance(ref, Library):
        return ref
    library = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        library = Library.objects.filter(pk=int(ref)).first()
    if library is None and isinstance(ref, str):
        library = Library.objects.filter(name=ref).first()
    if library is None:
        raise NotFound(f"No library {ref!r}.")
    return library


def scan_tracker(library: Library | int | str):
    """The ``library.scan`` tracker of a library (created on first use)."""
    return scanner.tracker_for(get_library(library))


def _user_id(user: Any) -> int | None:
    if user is None:
        return None
    return user if isinstance(user, int) else user.pk


def new_scan(library: Library | int | str, *, trigger: str, user: Any = None, full: bool = False) -> ScanRun:
    library = get_library(library)
    return ScanRun.objects.create(library=library, trigger=trigger, full=full, requested_by_id=_user_id(user))


def enqueue(scan: ScanRun) -> None:
    """Hand a queued scan to the orchestrator (after the surrounding transaction commits)."""
    scan_id, library_id = scan.pk, scan.library_id
    transaction.on_commit(lambda: async_task(TASK, scan_id, task_name=f"scan-library-{library_id}-run-{scan_id}",
                                             group="scans"))


def scan_request(library: Library | int | str, *, trigger: str, user: Any = None, full: bool = False) -> ScanRun:
    """Queue a scan of ``library`` for the orchestrator; returns the queued ``ScanRun``.

    ``Conflict`` when the library is disabled or a scan of it is running (its lease is
    held). Two requests racing past this check both get queued; the scanner's lease lets
    only one run and marks the other cancelled.
    """
    library = get_library(library)
    if not library.enabled:
        raise Conflict(f"The library {library.name} is disabled; enable it first.")
    if scanner.lease_active(library):
        raise Conflict(f"A scan of {library.name} is already running; wait for it or cancel it.")
    scan = new_scan(library, trigger=trigger, user=user, full=full)
    enqueue(scan)
    return scan


def scan_now(library: Library | int | str, *, trigger: str, user: Any = None, full: bool = False,
             **options: Any) -> ScanRun:
    """Record and run a scan in this process (``options`` go to ``scanner.Scanner``)."""
    scan = new_scan(library, trigger=trigger, user=user, full=full)
    return scanner.run(scan, **options)


def scan_cancel(library: Library | int | str, *, actor: int | None = None) -> dict[str, Any]:
    """Stop the library's running scan at its next batch and cancel its queued scans.

    ``Conflict`` when there is nothing to cancel.
    """
    library = get_library(library)
    dropped = ScanRun.objects.filter(library=library, status=ScanRun.QUEUED).update(
        status=ScanRun.CANCELLED, finished=timezone.now(), message="Cancelled before it started.")
    tracker = scanner.tracker_for(library)
    status = tracker.state.get("status")
    cancelling = status == "cancelling"
    if status == "running":
        try:
            store.dispatch(tracker.pk, "library.scan.cancel", {}, actor=actor)
            cancelling = True
        except Conflict:  # it finished meanwhile
            pass
    if not cancelling and not dropped:
        raise Conflict(f"No scan of {library.name} is running or queued.")
    return {
        "library": library.pk,
        "scan": tracker.state.get("scan_id") if cancelling else None,
        "cancelling": cancelling,
        "dropped": dropped,
    }


# -- libraries --------------------------------------------------------------------------


def libraries() -> list[dict[str, Any]]:
    """Every library with its track count, schedule and last scan."""
    rows = []
    for library in Library.objects.annotate(track_total=Count("tracks")).order_by("name"):
        last = library.scans.exclude(status=ScanRun.QUEUED).order_by("-created").first()
        rows.append({
            "id": library.pk, "name": library.name, "root": library.root, "enabled": library.enabled,
            "scan_interval": library.scan_interval, "tracks": library.track_total,
            "scanning": scanner.lease_active(library),
            "last_scan": None if last is None else {
                "id": last.pk, "status": last.status, "finished": last.finished, "message": last.message,
            },
        })
    return rows


def _check_root(root: str, *, exclude: int | None = None) -> str:
    if not root or not os.path.isabs(root):
        raise InvalidPayload(f"The library folder must be an absolute path, got {root!r}.")
    root = os.path.normpath(root)
    if not os.path.isdir(root):
        raise InvalidPayload(f"{root} is not a folder.")
    real = os.path.realpath(root)
    for other in Library.objects.exclude(pk=exclude).only("name", "root"):
        other_real = os.path.realpath(other.root)
        if scanner.is_inside(real, other_real) or scanner.is_inside(other_real, real):
            raise Conflict(f"{root} overlaps the library {other.name} ({other.root}).")
    return root


def library_add(name: str, root: str, *, interval: int = 60, enabled: bool = True) -> Library:
    """Add a music folder as a library (its schedule follows: see ``orchestrator.schedules``)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidPayload("A library needs a name of 1 to 100 characters.")
    if interval < 0:
        raise InvalidPayload("The scan interval is a number of minutes, 0 for never.")
    if Library.objects.filter(name=name).exists():
        raise Conflict(f"A library called {name} exists already.")
    root = _check_root(root)
    return Library.objects.create(name=name, root=root, scan_interval=interval, enabled=enabled)


def library_update(library: Library | int | str, *, interval: int | None = None, enabled: bool | None = None) -> Library:
    library = get_library(library)
    if interval is not None:
        if interval < 0:
            raise InvalidPayload("The scan interval is a number of minutes, 0 for never.")
        library.scan_interval = interval
    if enabled is not None:
        library.enabled = enabled
    library.save()
    return library


def library_remove(library: Library | int | str, *, force: bool = False) -> dict[str, Any]:
    """Remove a library, its tracks and scans, and whatever of the catalogue only it used.

    Refused while one of its scans runs unless ``force``.
    """
    library = get_library(library)
    if scanner.lease_active(library) and not force:
        raise Conflict(f"A scan of {library.name} is running; cancel it first.")
    with transaction.atomic():
        tracks = library.tracks.count()
        Tracker.objects.filter(kind=scanner.SCAN_KIND, owner=None, key=str(library.pk)).delete()
        library.delete()
        scanner.sweep_catalogue()
    return {"library": library.name, "tracks": tracks}


def sync_schedules() -> dict[str, Any]:
    return schedules.sync_all()
