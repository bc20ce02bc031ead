"""Embedded mode: deliver tracker changes committed by other processes.

The in-memory channel layer cannot cross processes, so a change committed by the
orchestrator (a scan's progress) or by a management command never reaches this bridge's
subscribers by broadcast. The bridge therefore tails the tracker log: every
``TAIL_INTERVAL`` seconds it reads the actions committed since the last look by *other*
processes and publishes them to their groups in this process. (Its own actions were
published at commit.) The scaled mode needs none of this: Redis carries every broadcast.

A scan's lifecycle actions (``library.scan.begin`` / ``complete`` / ``halt`` / ``fail``)
also carry a staff event (``library.scan.started`` / ``completed`` / ``failed``) that the
scanner broadcast in its own process; the tail republishes those to group ``staff``
too, built by the same mapping (``orchestrator.scan.events.lifecycle_event_for_log``).
"""
from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from common import groups
from common.clients import get_broadcast_client, run_sync
from common.process import process_id
from orchestrator.scan.events import LIFECYCLE, lifecycle_event_for_log
from tracker.events import ACTION_APPLIED
from tracker.models import TrackerAction
from tracker.store import Applied

logger = logging.getLogger(__name__)

TAIL_INTERVAL = 0.5
BATCH = 500

_task: asyncio.Task | None = None


def _latest_id() -> int:
    latest = TrackerAction.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def _staff_event(row) -> tuple[str, str, dict] | None:
    """(group, event, payload) of the staff event a scan lifecycle action stands for, if any."""
    if row.name not in LIFECYCLE:
        return None
    try:
        found = lifecycle_event_for_log(row.tracker_id, row.version, row.name, row.payload)
    except Exception:
        logger.exception("could not build the staff event of %s v%s", row.tracker_id, row.version)
        return None
    return None if found is None else (groups.STAFF, *found)


def _read(after: int) -> tuple[int, list, list]:
    rows = list(TrackerAction.objects.filter(id__gt=after).order_by("id")[:BATCH])
    me = process_id()
    applied = []
    events = []
    for r in rows:
        if r.origin == me:
            continue
        applied.append(Applied(str(r.tracker_id), r.version, r.name, r.payload, r.changes, {}))
        event = _staff_event(r)
        if event is not None:
            events.append(event)
    return (rows[-1].id if rows else after), applied, events


async def _run() -> None:
    client = get_broadcast_client()
    last = await run_sync(_latest_id)
    while True:
        await asyncio.sleep(TAIL_INTERVAL)
        try:
            last, applied, events = await run_sync(_read, last)
        except Exception:
            logger.exception("tracker log tail failed; retrying")
            continue
        for item in applied:
            await client.broadcast(groups.tracker_group(item.tracker), ACTION_APPLIED.name, item.event())
        for group, event, payload in events:
            try:
                await client.broadcast(group, event, payload)
            except Exception:
                logger.exception("could not republish %s", event)


def ensure_running() -> None:
    """Start the tailer in this process (embedded mode only); idempotent."""
    global _task
    if settings.SCALED or not getattr(settings, "TRACKER_LOG_TAIL", True):
        return
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_run())
