"""Scan actions over the WebSocket: staff only, queued for the orchestrator, progress live,
staff lifecycle events (directly, and through the embedded bridge's tracker-log tail)."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from common.registry import registry
from library.models import Library, ScanRun, Track
from orchestrator import services, tasks
from orchestrator.scan import events, scanner

from . import data_dir, library, music, scan  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def staff(make_user):
    return await database_sync_to_async(make_user)("root", staff=True)


@pytest.fixture
async def alice(make_user):
    return await database_sync_to_async(make_user)("alice")


@pytest.fixture
def one_parser(monkeypatch):
    """Scans inside the async tests parse in-process (no fork from a threaded event loop)."""
    monkeypatch.setattr(scanner, "default_workers", lambda: 1)


def ok(reply):
    assert reply["ok"], reply
    return reply["result"]


async def test_start_and_cancel_are_staff_only(alice, library, ws_client):
    client = await ws_client(alice)
    for action in ("library.scan.start", "library.scan.cancel"):
        reply = await client.request(action, {"library": library.pk})
        assert reply["error"]["code"] == "forbidden", reply
    assert await database_sync_to_async(ScanRun.objects.count)() == 0


async def test_start_queues_a_scan_for_the_orchestrator(staff, library, ws_client, one_parser):
    from django_q.models import OrmQ

    client = await ws_client(staff)
    result = ok(await client.request("library.scan.start", {"library": library.pk, "full": True}))
    assert result["library"] == library.pk and result["status"] == "queued"
    run = await database_sync_to_async(ScanRun.objects.get)(pk=result["scan"])
    assert (run.trigger, run.full, run.requested_by_id) == ("api", True, staff.pk)
    queued = await database_sync_to_async(lambda: [q.task for q in OrmQ.objects.all()])()
    assert [(q["func"], q["args"]) for q in queued] == [("orchestrator.tasks.run_scan", (run.pk,))]
    # What the orchestrator then runs:
    done = await database_sync_to_async(tasks.run_scan)(run.pk)
    assert done["status"] == "completed"
    assert await database_sync_to_async(Track.objects.count)() == 40


async def test_bad_requests_get_clear_errors(staff, library, ws_client):
    client = await ws_client(staff)
    assert (await client.request("library.scan.start", {"library": 999}))["error"]["code"] == "not_found"
    assert (await client.request("library.scan.start", {"library": "Music"}))["error"]["code"] == "invalid_payload"
    assert (await client.request("library.scan.cancel", {"library": library.pk}))["error"]["code"] == "conflict"
    await database_sync_to_async(Library.objects.filter(pk=library.pk).update)(enabled=False)
    assert (await client.request("library.scan.start", {"library": library.pk}))["error"]["code"] == "conflict"


async def test_scan_progress_and_staff_events_reach_subscribers(staff, alice, library, ws_client, one_parser):
    admin = await ws_client(staff)
    listener = await ws_client(alice)
    started = ok(await admin.request("library.scan.start", {"library": library.pk}))
    for client in (admin, listener):
        ok(await client.request("tracker.subscribe", {"tracker": started["tracker"]}))

    await database_sync_to_async(tasks.run_scan)(started["scan"])

    begin = await admin.event("tracker.action.applied", action="library.scan.begin")
    assert begin["payload"]["payload"] == {"scan_id": started["scan"], "trigger": "api"}
    report = await admin.event("tracker.action.applied", action="library.scan.report")
    assert set(report["payload"]["payload"]) >= {"phase", "files_seen", "parsed", "added"}
    complete = await admin.event("tracker.action.applied", action="library.scan.complete")
    assert complete["payload"]["changes"]["status"] == "completed"
    assert complete["payload"]["version"] > begin["payload"]["version"]

    event = await admin.event("library.scan.started")
    assert event["payload"] == {"library": library.pk, "scan": started["scan"], "trigger": "api", "full": False}
    event = await admin.event("library.scan.completed")
    assert event["payload"]["status"] == "completed" and event["payload"]["added"] == 40
    assert event["payload"]["scan"] == started["scan"] and event["payload"]["errors"] == 0

    # Any user may follow the tracker; the lifecycle events go to staff only.
    await listener.event("tracker.action.applied", action="library.scan.complete")
    assert not [f for f in listener.events if f.get("event", "").startswith("library.scan.")]


async def test_cancel_over_the_websocket(staff, library, ws_client):
    client = await ws_client(staff)
    tracker = await database_sync_to_async(services.scan_tracker)(library)
    from tracker import store

    await database_sync_to_async(store.dispatch)(tracker.pk, "library.scan.begin", {"scan_id": 1, "trigger": "api"})
    result = ok(await client.request("library.scan.cancel", {"library": library.pk}))
    assert result["cancelling"] is True
    state = (await database_sync_to_async(services.scan_tracker)(library)).state
    assert state["status"] == "cancelling"


async def test_embedded_tail_republishes_a_scan_run_by_another_process(staff, library, ws_client, settings,
                                                                       monkeypatch, one_parser):
    """The orchestrator is another process in the embedded mode: its broadcasts reach nobody,
    so the bridge's log tail delivers both the tracker actions and the staff events."""
    import tracker.store
    from bridge import tail

    settings.TRACKER_LOG_TAIL = True
    monkeypatch.setattr(tail, "TAIL_INTERVAL", 0.05)
    admin = await ws_client(staff)
    tracker_id = str((await database_sync_to_async(services.scan_tracker)(library)).pk)
    ok(await admin.request("tracker.subscribe", {"tracker": tracker_id}))
    # "Another process": its actions carry another origin and its own broadcasts go nowhere.
    monkeypatch.setattr(tracker.store, "process_id", lambda: "orchestrator-host:4242")
    monkeypatch.setattr(tracker.store, "publish", lambda applied: None)
    monkeypatch.setattr(events, "broadcast_lifecycle", lambda action, scan: None)
    run = await database_sync_to_async(services.scan_now)(library, trigger="schedule")
    assert run.status == ScanRun.COMPLETED

    complete = await admin.event("tracker.action.applied", action="library.scan.complete")
    assert complete["payload"]["tracker"] == tracker_id
    started = await admin.event("library.scan.started")
    assert started["payload"]["scan"] == run.pk and started["payload"]["trigger"] == "schedule"
    completed = await admin.event("library.scan.completed")
    assert completed["payload"]["scan"] == run.pk and completed["payload"]["added"] == 40
    tail._task.cancel()


def test_one_mapping_for_both_paths(library, music):
    """The tail builds from the log exactly what the scanner broadcast."""
    from bridge import tail
    from tracker.models import TrackerAction

    run = scan(library)
    failed = ScanRun.objects.create(library=library, trigger="test")
    Library.objects.filter(pk=library.pk).update(root=str(music[0]) + "-gone")
    failed = scanner.run(failed.pk)  # loads the library afresh
    assert failed.status == ScanRun.FAILED
    TrackerAction.objects.update(origin="elsewhere:1")
    _, applied, staff_events = tail._read(0)
    assert len(applied) == TrackerAction.objects.count()
    run.refresh_from_db()
    assert staff_events == [
        ("staff", *events.lifecycle_event("library.scan.begin", run)),
        ("staff", *events.lifecycle_event("library.scan.complete", run)),
        ("staff", *events.lifecycle_event("library.scan.begin", failed)),
        ("staff", *events.lifecycle_event("library.scan.fail", failed)),
    ]
    assert staff_events[3][2] == {"library": library.pk, "scan": failed.pk, "message": failed.message}
    assert "does not exist" in failed.message
    for _, name, payload in staff_events:  # valid against the declared schemas
        registry.validate_event(name, payload)


def test_every_scan_lifecycle_action_names_a_declared_staff_event():
    assert events.LIFECYCLE == {
        "library.scan.begin": "library.scan.started",
        "library.scan.complete": "library.scan.completed",
        "library.scan.halt": "library.scan.completed",
        "library.scan.fail": "library.scan.failed",
    }
    assert set(events.LIFECYCLE.values()) <= set(registry.events)
