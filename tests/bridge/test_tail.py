"""Embedded mode: a change committed by another process reaches subscribers via the log tail."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from tracker import store

pytestmark = pytest.mark.django_db(transaction=True)


def dispatch_in_another_process(tracker_id: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="mediaproject.settings",
        DATABASE_URL=f"sqlite:///{connection.settings_dict['NAME']}",
        DATA_DIR=str(settings.DATA_DIR),
    )
    code = f"from tracker import store; store.dispatch({tracker_id!r}, 'player.volume.set', {{'volume': 42}})"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=settings.BASE_DIR, env=env, check=True, timeout=60)


async def test_change_from_another_process_reaches_a_subscriber(make_user, ws_client, settings):
    settings.TRACKER_LOG_TAIL = True
    user = await database_sync_to_async(make_user)("alice")
    tracker = await database_sync_to_async(store.get_or_create)("player", owner=user, key="desk")
    client = await ws_client(user)
    reply = await client.request("tracker.subscribe", {"tracker": str(tracker.pk)})
    assert reply["ok"], reply
    await asyncio.sleep(0.2)  # the tailer has read where the log ends
    await asyncio.to_thread(dispatch_in_another_process, str(tracker.pk))
    event = await client.event("tracker.action.applied", timeout=10)
    assert event["payload"]["tracker"] == str(tracker.pk)
    assert event["payload"]["changes"] == {"volume": 42}


async def test_own_process_changes_are_not_delivered_twice(make_user, ws_client, settings):
    settings.TRACKER_LOG_TAIL = True
    user = await database_sync_to_async(make_user)("alice")
    client = await ws_client(user)
    registered = (await client.request("player.device.register", {"name": "desk"}))["result"]
    await asyncio.sleep(0.2)
    assert (await client.request("player.volume.set", {"volume": 9}))["ok"]
    first = await client.event("tracker.action.applied", action="player.volume.set")
    assert first["payload"]["version"] == registered["version"] + 1
    assert [e for e in client.events if e["event"] == "tracker.action.applied"] == []
    assert await client.communicator.receive_nothing(timeout=1.2)  # two tail intervals
