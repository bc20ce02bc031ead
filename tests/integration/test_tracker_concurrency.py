"""Concurrent dispatch from two processes to one tracker on PostgreSQL loses nothing."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.services import POSTGRES_URL, REDIS_URL

from devtools.deploy import ROOT, Stack

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not (POSTGRES_URL and REDIS_URL), reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL")]

PER_PROCESS = 500

DISPATCHER = """
from tracker import store
tracker_id, tag = "{tracker}", {tag}
for i in range({n}):
    if i % 5 == 0:
        store.dispatch(tracker_id, "player.volume.set", {{"volume": (i + tag) % 101}}, actor=None)
    else:
        store.dispatch(tracker_id, "player.queue.append", {{"tracks": [tag * 100000 + i]}}, actor=None)
print("done")
"""

SETUP = """
from django.contrib.auth import get_user_model
from tracker import store
user = get_user_model().objects.create_user("racer")
print("TRACKER=" + str(store.get_or_create("player", owner=user, key="race").pk))
"""

CHECK = """
from tracker import store
from tracker.models import Tracker
t = Tracker.objects.get(pk="{tracker}")
versions = list(t.actions.order_by("version").values_list("version", flat=True))
print("VERSION=%d" % t.version)
print("CONTIGUOUS=%s" % (versions == list(range(1, t.version + 1))))
print("REPLAY=%s" % (store.replay(t) == t.state))
print("QUEUE=%d" % len(t.state["queue"]))
"""


def test_two_processes_dispatching_500_each_end_at_version_1000(tmp_path):
    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path).create()
    try:
        output = stack.manage("shell", "-c", SETUP)
        tracker = next(line[8:] for line in output.splitlines() if line.startswith("TRACKER="))
        runners = [
            subprocess.Popen([sys.executable, "manage.py", "shell", "-c", DISPATCHER.format(n=PER_PROCESS, tracker=tracker, tag=tag)],
                             cwd=ROOT, env=stack.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for tag in (1, 2)
        ]
        for runner in runners:
            out, err = runner.communicate(timeout=300)
            assert runner.returncode == 0, err
        report = stack.manage("shell", "-c", CHECK.format(tracker=tracker))
    finally:
        stack.destroy()
    assert "VERSION=1000" in report
    assert "CONTIGUOUS=True" in report
    assert "REPLAY=True" in report
    assert f"QUEUE={2 * PER_PROCESS * 4 // 5}" in report
