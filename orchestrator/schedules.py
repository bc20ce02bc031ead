"""django-q2 schedules, kept in step with the libraries (idempotent; run any number of times).

- ``library scan <id>``: every ``scan_interval`` minutes for each enabled library with an
  interval (``orchestrator.tasks.scheduled_scan``); removed when the library is disabled,
  set to 0 or deleted. A new schedule runs at once (a new library gets scanned when the
  orchestrator next polls); a changed interval takes effect from now at the latest.
- ``tracker upkeep``: hourly ``orchestrator.tasks.upkeep``.

django-q2's ``Schedule.name`` is not unique, so schedules are written with
``update_or_create(name=...)`` after dropping any duplicates of that name. Missed runs
are not caught up (``catch_up`` is off in ``Q_CLUSTER``). ``sync_all`` runs after every
``migrate`` and ``sync_library`` after every save or delete of a library (the signal
handlers at the end, connected in ``orchestrator.apps``).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_q.models import Schedule

from library.models import Library

SCAN_FUNC = "orchestrator.tasks.scheduled_scan"
UPKEEP_FUNC = "orchestrator.tasks.upkeep"
UPKEEP_NAME = "tracker upkeep"
SCAN_PREFIX = "library scan "
MAX_MINUTES = 32767  # Schedule.minutes is a PositiveSmallIntegerField


def scan_schedule_name(library_id: int) -> str:
    return f"{SCAN_PREFIX}{library_id}"


def _upsert(name: str, **fields: Any):
    with transaction.atomic():
        extra = list(Schedule.objects.filter(name=name).order_by("id").values_list("id", flat=True)[1:])
        if extra:
            Schedule.objects.filter(id__in=extra).delete()
        schedule, created = Schedule.objects.update_or_create(
            name=name, defaults=fields, create_defaults={**fields, "next_run": timezone.now()})
    return schedule, created


def sync_library(library) -> Any:
    """Create, update or remove the scan schedule of one library; returns the schedule or None."""
    name = scan_schedule_name(library.pk)
    if not library.enabled or not library.scan_interval:
        Schedule.objects.filter(name=name).delete()
        return None
    minutes = min(int(library.scan_interval), MAX_MINUTES)
    schedule, created = _upsert(
        name, func=SCAN_FUNC, args=repr((library.pk,)), kwargs=None, schedule_type=Schedule.MINUTES,
        minutes=minutes, repeats=-1, cluster=None,
    )
    soonest = timezone.now() + timedelta(minutes=minutes)
    if not created and (schedule.next_run is None or schedule.next_run > soonest):
        Schedule.objects.filter(pk=schedule.pk).update(next_run=soonest)
        schedule.next_run = soonest
    return schedule


def remove_library(library_id: int) -> int:
    return Schedule.objects.filter(name=scan_schedule_name(library_id)).delete()[0]


def sync_upkeep() -> Any:
    schedule, _ = _upsert(UPKEEP_NAME, func=UPKEEP_FUNC, args=None, kwargs=None, schedule_type=Schedule.HOURLY,
                          minutes=None, repeats=-1, cluster=None)
    return schedule


def sync_all() -> dict[str, Any]:
    """Every schedule as the libraries say; schedules of libraries that are gone are removed."""
    kept = []
    for library in Library.objects.all():
        if sync_library(library) is not None:
            kept.append(scan_schedule_name(library.pk))
    removed = Schedule.objects.filter(name__startswith=SCAN_PREFIX).exclude(name__in=kept).delete()[0]
    sync_upkeep()
    return {"scans": kept, "removed": removed, "upkeep": UPKEEP_NAME}


# -- signal handlers ------------------------------------------------------------------


def _tables_ready(using: str) -> bool:
    names = set(connections[using].introspection.table_names())
    return {"django_q_schedule", "library_library"} <= names


def sync_after_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    # post_migrate is sent once per app; act once, after the library app's turn.
    if app_config is None or app_config.label != "library" or using != DEFAULT_DB_ALIAS:
        return
    if not _tables_ready(using):
        return
    sync_all()


def library_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    sync_library(instance)


def library_deleted(sender, instance, **kwargs) -> None:
    remove_library(instance.pk)
