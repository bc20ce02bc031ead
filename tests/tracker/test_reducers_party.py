"""Table-driven tests of the ``party`` reducer: membership, permissions, shared playback."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tracker.reducers import Action, ActionRejected, validate_payload
from tracker.reducers.party import PARTY, START_LEAD_MS

AT = 1_000_000
AHEAD = AT + START_LEAD_MS  # a playing start, stamped ahead for every member
EARLIER = 500_000
HOST, MEMBER, STRANGER = 1, 2, 9


def act(name: str, payload: dict[str, Any] | None = None, *, actor: int | None = HOST, at: int = AT, seed: int = 0) -> Action:
    """An action whose payload went through the schema, as the store would build it."""
    return Action(name, validate_payload(name, payload or {}), at, actor, seed)


def party(**fields: Any) -> dict[str, Any]:
    """A party hosted by 1 with member 2, host-only control, paused on [10, 20, 30] at entry 1."""
    state = {
        **PARTY.initial_state(),
        "host": HOST,
        "members": [HOST, MEMBER],
        "name": "Friday",
        "queue": [10, 20, 30],
        "index": 1,
        "order": [0, 1, 2],
        "position_at": EARLIER,
    }
    state.update(fields)
    return state


NEW = PARTY.initial_state()
OPEN = party()
SHARED = party(members_control=True)
PLAYING = party(playing=True, position_ms=1000, position_at=AT - 2000)  # live position at AT: 3000
ENDED = party(ended=True)

CREATE = "party.session.create"
JOIN = "party.session.join"
LEAVE = "party.session.leave"
END = "party.session.end"
CONTROL = "party.control.set"
NEXT = "player.playback.next"

p = pytest.param

ACCEPTED = [
    # session
    p(NEW, act(CREATE, actor=5), {"host": 5, "members": [5]}, id="create"),
    p(NEW, act(CREATE, {"name": "Friday"}, actor=5), {"host": 5, "members": [5], "name": "Friday"}, id="create-named"),
    p(OPEN, act(JOIN, actor=7), {"members": [1, 2, 7]}, id="join"),
    p(party(host=5, members=[3, 5]), act(JOIN, actor=1), {"members": [1, 3, 5]}, id="join-keeps-sorted"),
    p(OPEN, act(JOIN, actor=MEMBER), {}, id="join-twice"),
    p(OPEN, act(LEAVE, actor=MEMBER), {"members": [1]}, id="leave-member"),
    p(party(members=[1, 2, 3]), act(LEAVE, actor=HOST), {"members": [2, 3], "host": 2}, id="leave-host-hands-over-to-lowest"),
    p(party(host=3, members=[1, 2, 3]), act(LEAVE, actor=3), {"members": [1, 2], "host": 1}, id="leave-host-lowest-is-below"),
    p(
        party(members=[HOST], playing=True, position_ms=1000, position_at=AT - 2000),
        act(LEAVE, actor=HOST),
        {"members": [], "host": None, "ended": True, "playing": False, "position_ms": 3000, "position_at": AT},
        id="leave-last-ends",
    ),
    p(OPEN, act(CONTROL, {"members_control": True}), {"members_control": True}, id="control-on"),
    p(SHARED, act(CONTROL, {"members_control": False}), {"members_control": False}, id="control-off"),
    p(OPEN, act(CONTROL, {"members_control": True}, actor=None), {"members_control": True}, id="control-by-server"),
    p(PLAYING, act(END), {"ended": True, "playing": False, "position_ms": 3000, "position_at": AT}, id="end"),
    p(OPEN, act(END, actor=None), {"ended": True, "position_at": AT}, id="end-by-server"),
    # playback permissions
    p(OPEN, act(NEXT), {"index": 2, "position_at": AT}, id="host-controls"),
    p(SHARED, act(NEXT, actor=MEMBER), {"index": 2, "position_at": AT}, id="member-controls-when-allowed"),
    p(OPEN, act(NEXT, actor=None), {"index": 2, "position_at": AT}, id="server-controls"),
    p(party(members_control=False), act("player.track.ended", actor=None), {"index": 2, "position_at": AT}, id="server-ends-track"),
    # shared playback logic
    p(OPEN, act("player.queue.append", {"tracks": [40]}), {"queue": [10, 20, 30, 40], "order": [0, 1, 2, 3]}, id="append"),
    p(OPEN, act("player.queue.insert_next", {"tracks": [40]}), {"queue": [10, 20, 40, 30], "order": [0, 1, 2, 3]}, id="insert-next"),
    p(PLAYING, act("player.queue.remove", {"index": 1}), {"queue": [10, 30], "order": [0, 1], "position_ms": 0, "position_at": AT}, id="remove-current"),
    p(OPEN, act("player.queue.move", {"from_index": 2, "to_index": 0}), {"queue": [30, 10, 20], "index": 2}, id="move"),
    p(PLAYING, act("player.queue.clear"), {"queue": [], "index": None, "order": [], "playing": False, "position_ms": 0, "position_at": AT}, id="clear"),
    p(
        party(queue=[], index=None, order=[]),
        act("player.queue.replace", {"tracks": [5, 6], "play": True}),
        {"queue": [5, 6], "index": 0, "order": [0, 1], "playing": True, "position_at": AT},
        id="replace",
    ),
    p(OPEN, act("player.playback.play", {"index": 0}), {"index": 0, "playing": True, "position_at": AHEAD}, id="play"),
    p(PLAYING, act("player.playback.pause"), {"playing": False, "position_ms": 3000, "position_at": AT}, id="pause"),
    p(PLAYING, act("player.playback.seek", {"position_ms": 9}), {"position_ms": 9, "position_at": AHEAD}, id="seek"),
    p(PLAYING, act("player.playback.stop"), {"playing": False, "position_ms": 0, "position_at": AT}, id="stop"),
    p(PLAYING, act("player.playback.previous"), {"index": 0, "position_ms": 0, "position_at": AHEAD}, id="previous"),
    p(party(index=2, repeat="all"), act(NEXT), {"index": 0, "position_at": AT}, id="next-wraps"),
    p(PLAYING, act(NEXT), {"index": 2, "position_ms": 0, "position_at": AHEAD}, id="next-while-playing-starts-ahead"),
    p(PLAYING, act("player.track.ended", actor=None), {"index": 2, "position_ms": 0, "position_at": AHEAD}, id="ended-starts-ahead"),
    p(PLAYING, act("player.playback.play"), {"position_ms": 3000, "position_at": AHEAD}, id="resume-starts-ahead"),
    p(party(index=2, playing=True), act("player.track.ended"), {"playing": False, "position_at": AT}, id="ended-at-end-stops"),
    p(party(shuffle=True, order=[2, 0, 1]), act("player.mode.set", {"shuffle": False, "repeat": "one"}), {"shuffle": False, "repeat": "one", "order": [0, 1, 2]}, id="mode"),
    p(
        OPEN,
        act("player.queue.take", {"queue": [4, 5], "index": 1, "position_ms": 70, "shuffle": False, "repeat": "all"}),
        {"queue": [4, 5], "index": 1, "order": [0, 1], "repeat": "all", "playing": True, "position_ms": 70, "position_at": AHEAD},
        id="take",
    ),
]


@pytest.mark.parametrize(("start", "action", "changes"), ACCEPTED)
def test_accepted(start: dict[str, Any], action: Action, changes: dict[str, Any]) -> None:
    before = copy.deepcopy(start)
    result = PARTY.reduce(start, action)
    assert result == {**start, **changes}
    assert start == before
    assert json.loads(json.dumps(result)) == result


REJECTED = [
    # session
    p(OPEN, act(CREATE, actor=5), "conflict", id="create-twice"),
    p(NEW, act(CREATE, actor=None), "conflict", id="create-by-server"),
    p(NEW, act(JOIN, actor=5), "conflict", id="join-before-create"),
    p(NEW, act(NEXT, actor=None), "conflict", id="playback-before-create"),
    p(OPEN, act(JOIN, actor=None), "conflict", id="join-by-server"),
    p(OPEN, act(LEAVE, actor=STRANGER), "forbidden", id="leave-non-member"),
    p(OPEN, act(LEAVE, actor=None), "conflict", id="leave-by-server"),
    p(OPEN, act(CONTROL, {"members_control": True}, actor=MEMBER), "forbidden", id="control-by-member"),
    p(SHARED, act(CONTROL, {"members_control": False}, actor=MEMBER), "forbidden", id="control-by-member-with-control"),
    p(OPEN, act(CONTROL, {"members_control": True}, actor=STRANGER), "forbidden", id="control-by-stranger"),
    p(OPEN, act(END, actor=MEMBER), "forbidden", id="end-by-member"),
    p(OPEN, act(END, actor=STRANGER), "forbidden", id="end-by-stranger"),
    # playback permissions
    p(OPEN, act(NEXT, actor=MEMBER), "forbidden", id="member-without-control"),
    p(OPEN, act("player.queue.append", {"tracks": [1]}, actor=MEMBER), "forbidden", id="member-append-without-control"),
    p(OPEN, act(NEXT, actor=STRANGER), "forbidden", id="stranger"),
    p(SHARED, act(NEXT, actor=STRANGER), "forbidden", id="stranger-with-members-control"),
    # ended: everything is a conflict, even for the host or the server
    p(ENDED, act(NEXT), "conflict", id="ended-playback-host"),
    p(ENDED, act(NEXT, actor=None), "conflict", id="ended-playback-server"),
    p(ENDED, act(JOIN, actor=5), "conflict", id="ended-join"),
    p(ENDED, act(LEAVE, actor=MEMBER), "conflict", id="ended-leave"),
    p(ENDED, act(END), "conflict", id="ended-end"),
    p(ENDED, act(CONTROL, {"members_control": True}), "conflict", id="ended-control"),
    p(party(ended=True, host=None, members=[]), act(CREATE, actor=5), "conflict", id="ended-create"),
    # shared playback checks still apply
    p(party(queue=[], index=None, order=[]), act(NEXT), "conflict", id="next-empty"),
    p(OPEN, act("player.queue.remove", {"index": 3}), "invalid_payload", id="remove-out-of-range"),
    p(OPEN, act("player.playback.play", {"index": 5}), "invalid_payload", id="play-out-of-range"),
]


@pytest.mark.parametrize(("start", "action", "code"), REJECTED)
def test_rejected(start: dict[str, Any], action: Action, code: str) -> None:
    before = copy.deepcopy(start)
    with pytest.raises(ActionRejected) as caught:
        PARTY.reduce(start, action)
    assert caught.value.code == code
    assert start == before


@pytest.mark.parametrize("name", ["player.queue.transfer", "player.volume.set", "player.device.rename"])
def test_player_only_actions_are_unknown_to_a_party(name: str) -> None:
    payload = {"player.queue.transfer": {"to": "00000000-0000-4000-8000-000000000001"}, "player.volume.set": {"volume": 3}, "player.device.rename": {"name": "x"}}[name]
    assert not PARTY.accepts(name)
    assert PARTY.reduce(OPEN, act(name, payload)) is OPEN


def test_session_lifecycle() -> None:
    state = PARTY.initial_state()
    for action in (
        act(CREATE, {"name": "Road trip"}, actor=4),
        act(JOIN, actor=2),
        act(JOIN, actor=8),
        act("player.queue.replace", {"tracks": [1, 2, 3], "play": True}, actor=4),
        act(LEAVE, actor=4),
    ):
        state = PARTY.reduce(state, action)
    assert (state["host"], state["members"], state["playing"]) == (2, [2, 8], True)
    with pytest.raises(ActionRejected) as caught:
        PARTY.reduce(state, act(NEXT, actor=8))
    assert caught.value.code == "forbidden"
    state = PARTY.reduce(state, act(CONTROL, {"members_control": True}, actor=2))
    state = PARTY.reduce(state, act(NEXT, actor=8))
    assert state["index"] == 1
    for actor in (2, 8):
        state = PARTY.reduce(state, act(LEAVE, actor=actor))
    assert state["ended"] is True and state["playing"] is False and state["members"] == []
