"""Kind ``library.scan``: the progress of one library's scans, written by the server.

``idle`` -> ``running`` (-> ``cancelling``) -> ``completed`` | ``failed`` | ``cancelled``,
and a finished scan may be followed by a new one. Counters are absolute values.
"""
from __future__ import annotations

from tracker import schemas

from .base import Action, ActionRejected, Reducer, State, TrackerAction

KIND = "library.scan"
COUNTERS = ("files_seen", "parsed", "added", "updated", "removed", "unchanged", "errors")
STARTABLE = frozenset({"idle", "completed", "failed", "cancelled"})
ACTIVE = frozenset({"running", "cancelling"})


def initial_state() -> State:
    """No scan yet."""
    return {
        "status": "idle",
        "scan_id": None,
        "trigger": None,
        "phase": None,
        **{counter: 0 for counter in COUNTERS},
        "started_at": None,
        "finished_at": None,
        "message": None,
    }


def _require_status(state: State, allowed: frozenset[str], action: Action) -> None:
    if state["status"] not in allowed:
        raise ActionRejected(f"{action.name} is impossible while the scan is {state['status']}.", "conflict")


def _finished(state: State, action: Action, status: str, message: str | None) -> State:
    _require_status(state, ACTIVE, action)
    return {**state, "status": status, "finished_at": action.at_ms, "message": message}


def started(state: State, action: Action) -> State:
    """A new scan runs: counters reset."""
    _require_status(state, STARTABLE, action)
    return {
        **initial_state(),
        "status": "running",
        "scan_id": action.payload["scan_id"],
        "trigger": action.payload["trigger"],
        "started_at": action.at_ms,
    }


def progressed(state: State, action: Action) -> State:
    """New phase and/or counter values (absolute)."""
    _require_status(state, ACTIVE, action)
    return {**state, **{field: value for field, value in action.payload.items() if field == "phase" or field in COUNTERS}}


def cancel_requested(state: State, action: Action) -> State:
    """Someone asked the running scan to stop."""
    _require_status(state, frozenset({"running"}), action)
    return {**state, "status": "cancelling"}


def completed(state: State, action: Action) -> State:
    """The scan finished."""
    return _finished(state, action, "completed", action.payload.get("message"))


def failed(state: State, action: Action) -> State:
    """The scan stopped on an error."""
    return _finished(state, action, "failed", action.payload["message"])


def cancelled(state: State, action: Action) -> State:
    """The scan stopped as requested."""
    return _finished(state, action, "cancelled", None)


# Written by the server only. A lifecycle action names the staff event it announces;
# ``library.scan.cancel`` reaches the bus as the orchestrator's cancel by library.
ACTIONS: tuple[TrackerAction, ...] = (
    TrackerAction("library.scan.begin", schemas.ScanStarted, started,
                  "A scan of the tracker's library began (server only).", server_only=True,
                  staff_event="library.scan.started"),
    TrackerAction("library.scan.report", schemas.ScanProgressed, progressed,
                  "A running scan's phase and counters (server only).", server_only=True),
    TrackerAction("library.scan.cancel", schemas.Empty, cancel_requested,
                  "Someone asked the running scan to stop.", own_bus_action=True),
    TrackerAction("library.scan.complete", schemas.ScanCompleted, completed,
                  "The scan finished (server only).", server_only=True, staff_event="library.scan.completed"),
    TrackerAction("library.scan.fail", schemas.ScanFailed, failed,
                  "The scan failed, with a message (server only).", server_only=True,
                  staff_event="library.scan.failed"),
    TrackerAction("library.scan.halt", schemas.Empty, cancelled,
                  "The scan stopped after a cancel (server only).", server_only=True,
                  staff_event="library.scan.completed"),
)

SCAN = Reducer(kind=KIND, initial_state=initial_state, actions=ACTIONS)
