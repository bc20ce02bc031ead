"""Table-driven tests of the ``library.scan`` reducer."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tracker.reducers import Action, ActionRejected, validate_payload
from tracker.reducers.scan import SCAN

AT = 1_000_000
STARTED_AT = 900_000
COUNTERS = {"files_seen": 10, "parsed": 9, "added": 5, "updated": 2, "removed": 1, "unchanged": 1, "errors": 1}


def act(name: str, payload: dict[str, Any] | None = None, *, at: int = AT) -> Action:
    """A server action whose payload went through the schema."""
    return Action(name, validate_payload(name, payload or {}), at, None)


def scan(status: str, **fields: Any) -> dict[str, Any]:
    """Scan 3 (manual) in ``status``, mid-way through parsing."""
    state = {**SCAN.initial_state(), "status": status, "scan_id": 3, "trigger": "manual", "phase": "parsing", "started_at": STARTED_AT, **COUNTERS}
    if status in ("completed", "failed", "cancelled"):
        state["finished_at"] = STARTED_AT + 10
    state.update(fields)
    return state


IDLE = SCAN.initial_state()
RUNNING = scan("running")
CANCELLING = scan("cancelling")
COMPLETED = scan("completed", message="done")
FAILED = scan("failed", message="disk gone")
CANCELLED = scan("cancelled")

STARTED = "library.scan.begin"
PROGRESSED = "library.scan.report"
CANCEL = "library.scan.cancel"

FRESH_RUN = {
    **SCAN.initial_state(),
    "status": "running",
    "scan_id": 4,
    "trigger": "schedule",
    "started_at": AT,
}

p = pytest.param

ACCEPTED = [
    p(IDLE, act(STARTED, {"scan_id": 4, "trigger": "schedule"}), FRESH_RUN, id="start-from-idle"),
    p(COMPLETED, act(STARTED, {"scan_id": 4, "trigger": "schedule"}), FRESH_RUN, id="start-after-completed-resets"),
    p(FAILED, act(STARTED, {"scan_id": 4, "trigger": "schedule"}), FRESH_RUN, id="start-after-failed"),
    p(CANCELLED, act(STARTED, {"scan_id": 4, "trigger": "schedule"}), FRESH_RUN, id="start-after-cancelled"),
    p(RUNNING, act(PROGRESSED, {"phase": "writing", "added": 7}), {**RUNNING, "phase": "writing", "added": 7}, id="progress"),
    p(RUNNING, act(PROGRESSED, {"files_seen": 0}), {**RUNNING, "files_seen": 0}, id="progress-absolute"),
    p(RUNNING, act(PROGRESSED, {}), RUNNING, id="progress-nothing"),
    p(
        RUNNING,
        act(PROGRESSED, {"phase": "cleaning", **{name: value + 1 for name, value in COUNTERS.items()}}),
        {**RUNNING, "phase": "cleaning", **{name: value + 1 for name, value in COUNTERS.items()}},
        id="progress-everything",
    ),
    p(CANCELLING, act(PROGRESSED, {"parsed": 10}), {**CANCELLING, "parsed": 10}, id="progress-while-cancelling"),
    p(RUNNING, act(CANCEL), {**RUNNING, "status": "cancelling"}, id="cancel-request"),
    p(RUNNING, act("library.scan.complete"), {**RUNNING, "status": "completed", "finished_at": AT}, id="complete"),
    p(RUNNING, act("library.scan.complete", {"message": "3 new"}), {**RUNNING, "status": "completed", "finished_at": AT, "message": "3 new"}, id="complete-message"),
    p(CANCELLING, act("library.scan.complete"), {**CANCELLING, "status": "completed", "finished_at": AT}, id="complete-while-cancelling"),
    p(RUNNING, act("library.scan.fail", {"message": "boom"}), {**RUNNING, "status": "failed", "finished_at": AT, "message": "boom"}, id="fail"),
    p(CANCELLING, act("library.scan.fail", {"message": "boom"}), {**CANCELLING, "status": "failed", "finished_at": AT, "message": "boom"}, id="fail-while-cancelling"),
    p(CANCELLING, act("library.scan.halt"), {**CANCELLING, "status": "cancelled", "finished_at": AT}, id="cancelled"),
    p(RUNNING, act("library.scan.halt"), {**RUNNING, "status": "cancelled", "finished_at": AT}, id="cancelled-without-request"),
]


@pytest.mark.parametrize(("start", "action", "expected"), ACCEPTED)
def test_accepted(start: dict[str, Any], action: Action, expected: dict[str, Any]) -> None:
    before = copy.deepcopy(start)
    result = SCAN.reduce(start, action)
    assert result == expected
    assert start == before
    assert json.loads(json.dumps(result)) == result


STARTS = [("running", RUNNING), ("cancelling", CANCELLING)]
FINISHED = [("idle", IDLE), ("completed", COMPLETED), ("failed", FAILED), ("cancelled", CANCELLED)]

REJECTED = [
    *(p(state, act(STARTED, {"scan_id": 9, "trigger": "manual"}), id=f"start-while-{status}") for status, state in STARTS),
    *(p(state, act(PROGRESSED, {"parsed": 1}), id=f"progress-while-{status}") for status, state in FINISHED),
    *(p(state, act(CANCEL), id=f"cancel-while-{status}") for status, state in [*FINISHED, ("cancelling", CANCELLING)]),
    *(p(state, act("library.scan.complete"), id=f"complete-while-{status}") for status, state in FINISHED),
    *(p(state, act("library.scan.fail", {"message": "x"}), id=f"fail-while-{status}") for status, state in FINISHED),
    *(p(state, act("library.scan.halt"), id=f"cancelled-while-{status}") for status, state in FINISHED),
]


@pytest.mark.parametrize(("start", "action"), REJECTED)
def test_rejected(start: dict[str, Any], action: Action) -> None:
    before = copy.deepcopy(start)
    with pytest.raises(ActionRejected) as caught:
        SCAN.reduce(start, action)
    assert caught.value.code == "conflict"
    assert start == before


def test_a_full_scan() -> None:
    state = SCAN.initial_state()
    for action in (
        act(STARTED, {"scan_id": 1, "trigger": "manual"}, at=10),
        act(PROGRESSED, {"phase": "walking", "files_seen": 100}, at=20),
        act(PROGRESSED, {"phase": "parsing", "parsed": 100, "errors": 2}, at=30),
        act(PROGRESSED, {"phase": "writing", "added": 90, "updated": 8}, at=40),
        act("library.scan.complete", {"message": "90 new"}, at=50),
    ):
        state = SCAN.reduce(state, action)
    assert state == {
        "status": "completed",
        "scan_id": 1,
        "trigger": "manual",
        "phase": "writing",
        "files_seen": 100,
        "parsed": 100,
        "added": 90,
        "updated": 8,
        "removed": 0,
        "unchanged": 0,
        "errors": 2,
        "started_at": 10,
        "finished_at": 50,
        "message": "90 new",
    }
