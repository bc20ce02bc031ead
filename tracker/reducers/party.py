"""Kind ``party``: a shared listening session.

The shared playback fields (see ``playback``; no volume: that is per device) plus
``host``, ``members`` (sorted user ids, host included), ``members_control`` (members may
control the queue and playback), ``name`` and ``ended``. Playback actions need a member,
and the host unless ``members_control``; the server (actor None) may always act. Once
``ended``, every action is a conflict.

A party's members hear a change at different times (each over its own network), so the
actions that start playback at a new point (play, seek, next, previous, a track's end)
stamp the start ``START_LEAD_MS`` in the future: ``position_at`` is then later than the
action, and every member starts at that common server time instead of when the event
reaches it (the live position holds at ``position_ms`` until then).
"""
from __future__ import annotations

from functools import wraps

from tracker import schemas

from .base import Action, ActionRejected, Handler, Reducer, State, TrackerAction
from .playback import PLAYBACK_ACTIONS, START_LEAD_MS, initial_playback, paused

KIND = "party"
DEFAULT_NAME = "Party"
STARTS_AHEAD = frozenset({
    "player.playback.play", "player.playback.seek", "player.playback.next", "player.playback.previous",
    "player.track.ended",
})


def initial_state() -> State:
    """A party not created yet: no host, no members, host-only control."""
    return {
        **initial_playback(),
        "host": None,
        "members": [],
        "members_control": False,
        "name": DEFAULT_NAME,
        "ended": False,
    }


def _require_open(state: State) -> None:
    if state["ended"]:
        raise ActionRejected("The party has ended.", "conflict")
    if state["host"] is None:
        raise ActionRejected("The party has not been created yet.", "conflict")


def _require_user(action: Action) -> int:
    if action.actor is None:
        raise ActionRejected(f"{action.name} needs a user, not the server.", "conflict")
    return action.actor


def _require_member(state: State, actor: int | None) -> None:
    if actor is not None and actor not in state["members"]:
        raise ActionRejected("Only party members may do this.", "forbidden")


def _require_host(state: State, actor: int | None) -> None:
    _require_member(state, actor)
    if actor is not None and actor != state["host"]:
        raise ActionRejected("Only the party host may do this.", "forbidden")


def session_create(state: State, action: Action) -> State:
    """The actor opens the party and becomes its host (only once)."""
    if state["ended"]:
        raise ActionRejected("The party has ended.", "conflict")
    if state["host"] is not None:
        raise ActionRejected("The party already exists.", "conflict")
    actor = _require_user(action)
    return {**state, "host": actor, "members": [actor], "name": action.payload.get("name", state["name"])}


def session_join(state: State, action: Action) -> State:
    """The actor becomes a member (joining twice changes nothing)."""
    _require_open(state)
    actor = _require_user(action)
    return {**state, "members": sorted({*state["members"], actor})}


def session_leave(state: State, action: Action) -> State:
    """The actor leaves; a leaving host hands over to the lowest member; the last one out ends the party."""
    _require_open(state)
    actor = _require_user(action)
    _require_member(state, actor)
    members = [member for member in state["members"] if member != actor]
    if not members:
        return {**paused(state, action.at_ms), "members": [], "host": None, "ended": True}
    host = members[0] if actor == state["host"] else state["host"]
    return {**state, "members": members, "host": host}


def control_set(state: State, action: Action) -> State:
    """Whether members (not only the host) may control the queue and playback (host only)."""
    _require_open(state)
    _require_host(state, action.actor)
    return {**state, "members_control": action.payload["members_control"]}


def session_end(state: State, action: Action) -> State:
    """The party ends and playback pauses (host only)."""
    _require_open(state)
    _require_host(state, action.actor)
    return {**paused(state, action.at_ms), "ended": True}


def _controlled(handler: Handler) -> Handler:
    """``handler`` behind the party's checks: open, and a member allowed to control."""

    @wraps(handler)
    def handle(state: State, action: Action) -> State:
        _require_open(state)
        if not state["members_control"]:
            _require_host(state, action.actor)
        else:
            _require_member(state, action.actor)
        return handler(state, action)

    return handle


def _starts_ahead(handler: Handler) -> Handler:
    """``handler``, with a start it stamps now moved ``START_LEAD_MS`` ahead (while playing)."""

    @wraps(handler)
    def handle(state: State, action: Action) -> State:
        result = handler(state, action)
        if result["playing"] and result["position_at"] == action.at_ms:
            return {**result, "position_at": action.at_ms + START_LEAD_MS}
        return result

    return handle


def _party_action(action: TrackerAction) -> TrackerAction:
    action = action.wrapped(_starts_ahead) if action.name in STARTS_AHEAD else action
    return action.wrapped(_controlled)


# Every shared queue/playback action, ``player.queue.take`` included; not
# ``player.queue.transfer`` (a party has no ``transferred_to``) nor volume/device.
ACTIONS: tuple[TrackerAction, ...] = (
    *(_party_action(action) for action in PLAYBACK_ACTIONS),
    TrackerAction("party.session.create", schemas.SessionCreate, session_create, "Start a listening party hosted by you.",
                  own_bus_action=True),
    TrackerAction("party.session.join", schemas.Empty, session_join, "Join a listening party."),
    TrackerAction("party.session.leave", schemas.Empty, session_leave,
                  "Leave a listening party (the host's role passes on)."),
    TrackerAction("party.session.end", schemas.Empty, session_end, "End the party (host only)."),
    TrackerAction("party.control.set", schemas.ControlSet, control_set,
                  "Let members control playback, or not (host only)."),
)

PARTY = Reducer(kind=KIND, initial_state=initial_state, actions=ACTIONS)
