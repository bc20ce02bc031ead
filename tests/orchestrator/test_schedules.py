"""django-q2 schedules follow the libraries, idempotently; the task wrappers."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from library.models import Library, ScanRun, Track
from orchestrator import schedules, services, tasks

from . import data_dir, library, music  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def scan_schedules():
    return list(Schedule.objects.filter(name__startswith=schedules.SCAN_PREFIX).order_by("name"))


def test_the_upkeep_schedule_exists_after_migrate():
    upkeep = Schedule.objects.get(name=schedules.UPKEEP_NAME)
    assert (upkeep.func, upkeep.schedule_type, upkeep.repeats) == ("orchestrator.tasks.upkeep", Schedule.HOURLY, -1)


def test_a_library_gets_a_schedule_that_follows_its_settings(tmp_path):
    library = services.library_add("Music", str(tmp_path), interval=45)
    (schedule,) = scan_schedules()
    assert schedule.name == f"library scan {library.pk}"
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (schedules.SCAN_FUNC, Schedule.MINUTES, 45)
    assert schedule.args == f"({library.pk},)" and schedule.repeats == -1
    assert schedule.next_run <= timezone.now()  # a new library is scanned at the next poll

    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now() + timedelta(days=3))
    services.library_update(library, interval=10)
    (updated,) = scan_schedules()
    assert updated.pk == schedule.pk and updated.minutes == 10
    assert updated.next_run <= timezone.now() + timedelta(minutes=10)  # the shorter interval applies now

    services.library_update(library, interval=0)
    assert scan_schedules() == []
    services.library_update(library, interval=60)
    assert [s.minutes for s in scan_schedules()] == [60]
    services.library_update(library, enabled=False)
    assert scan_schedules() == []
    services.library_update(library, enabled=True)
    assert len(scan_schedules()) == 1
    library.delete()
    assert scan_schedules() == []


def test_sync_is_idempotent_and_removes_strays(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = services.library_add("A", str(tmp_path / "a"), interval=5)
    services.library_add("B", str(tmp_path / "b"), interval=0)
    # Duplicates by name (Schedule.name is not unique) and a schedule of a deleted library.
    Schedule.objects.create(name=f"library scan {a.pk}", func=schedules.SCAN_FUNC, schedule_type=Schedule.MINUTES, minutes=99)
    Schedule.objects.create(name="library scan 9999", func=schedules.SCAN_FUNC, schedule_type=Schedule.MINUTES, minutes=1)
    Schedule.objects.create(name=schedules.UPKEEP_NAME, func="x", schedule_type=Schedule.DAILY)
    first = schedules.sync_all()
    rows = sorted(Schedule.objects.values_list("name", "func", "minutes", "schedule_type"))
    assert schedules.sync_all()["scans"] == first["scans"] == [f"library scan {a.pk}"]
    assert sorted(Schedule.objects.values_list("name", "func", "minutes", "schedule_type")) == rows
    assert rows == [
        (f"library scan {a.pk}", schedules.SCAN_FUNC, 5, Schedule.MINUTES),
        (schedules.UPKEEP_NAME, schedules.UPKEEP_FUNC, None, Schedule.HOURLY),
    ]


def test_a_huge_interval_is_capped_to_what_django_q_stores(tmp_path):
    services.library_add("Music", str(tmp_path), interval=100_000)
    assert scan_schedules()[0].minutes == schedules.MAX_MINUTES


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_scans_enabled_libraries(library):
    Library.objects.filter(pk=library.pk).update(scan_interval=60)
    result = tasks.scheduled_scan(library.pk)
    assert result["status"] == "completed"
    assert ScanRun.objects.get().trigger == "schedule" and Track.objects.count() == 40
    Library.objects.filter(pk=library.pk).update(enabled=False)
    assert tasks.scheduled_scan(library.pk) is None
    assert tasks.scheduled_scan(12345) is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_scan_task_raises_for_django_q(library, music, tmp_path):
    music[0].rename(tmp_path / "gone")
    run = ScanRun.objects.create(library=library, trigger="api")
    with pytest.raises(RuntimeError, match="does not exist"):
        tasks.run_scan(run.pk)


def test_upkeep_expires_idle_players_and_compacts_logs(make_user, monkeypatch):
    from tracker import store
    from tracker.models import Tracker

    user = make_user("alice")
    idle = store.get_or_create("player", owner=user, key="Old phone")
    Tracker.objects.filter(pk=idle.pk).update(updated=timezone.now() - timedelta(days=40))
    scan_tracker = store.get_or_create("library.scan", owner=None, key="1")
    store.dispatch(scan_tracker.pk, "library.scan.begin", {"scan_id": 1, "trigger": "x"})
    for i in range(12):
        store.dispatch(scan_tracker.pk, "library.scan.report", {"parsed": i})
    monkeypatch.setattr(tasks, "LOG_MAX_LENGTH", 10)
    result = tasks.upkeep()
    assert result == {"players_expired": 1, "actions_compacted": 8}
    assert not Tracker.objects.filter(pk=idle.pk).exists()


def test_devices_expire_after_device_expiry_days_unused(make_user, monkeypatch, settings):
    """With the clock moved on: a device used within DEVICE_EXPIRY_DAYS stays, others go."""
    from common.messages import Context
    from tracker import services as tracker_services
    from tracker.models import Tracker

    settings.DEVICE_EXPIRY_DAYS = 30
    user = make_user("alice")
    context = Context(user_id=user.pk, username="alice", via="ws")
    start = timezone.now()
    left = tracker_services.register_device(context, "Old laptop", "k-oldlaptop-1")["tracker"]
    used = tracker_services.register_device(context, "Phone", "k-phone-00001")["tracker"]

    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(days=20))
    tracker_services.register_device(context, "Phone", "k-phone-00001")  # the phone connects again
    assert tasks.upkeep()["players_expired"] == 0

    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(days=31))
    assert tasks.upkeep()["players_expired"] == 1
    assert list(Tracker.objects.filter(kind="player").values_list("pk", flat=True)) == [uuid.UUID(used)]
    assert not Tracker.objects.filter(pk=left).exists()

    settings.DEVICE_EXPIRY_DAYS = 5
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(days=26))
    assert tasks.upkeep()["players_expired"] == 1
    assert not Tracker.objects.filter(kind="player").exists()
