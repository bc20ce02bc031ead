"""Table-driven tests of the ``player`` reducer (and the shared playback logic)."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tracker.reducers import Action, ActionRejected, validate_payload
from tracker.reducers.playback import START_LEAD_MS, shuffled_order
from tracker.reducers.player import PLAYER
from tracker.schemas import MAX_POSITION_MS, MAX_TRACKS

AT = 1_000_000  # the "now" of every action below
EARLIER = 500_000


def act(name: str, payload: dict[str, Any] | None = None, *, at: int = AT, actor: int | None = 1, seed: int = 0) -> Action:
    """An action whose payload went through the schema, as the store would build it."""
    return Action(name, validate_payload(name, payload or {}), at, actor, seed)


def player(queue: list[int] | None = None, index: int | None = 1, **fields: Any) -> dict[str, Any]:
    """A paused player on ``queue`` (default [10, 20, 30]) at entry ``index``, identity order."""
    queue = [10, 20, 30] if queue is None else queue
    state = {**PLAYER.initial_state(), "queue": queue, "index": index if queue else None}
    state.update(order=list(range(len(queue))), position_at=EARLIER)
    state.update(fields)
    return state


EMPTY = PLAYER.initial_state()
Q3 = player()
PLAYING = player(playing=True, position_ms=1000, position_at=AT - 2000)  # live position at AT: 3000
SHUFFLED = player(shuffle=True, order=[1, 2, 0])  # plays 20, 30, 10

REPLACE = "player.queue.replace"
APPEND = "player.queue.append"
INSERT_NEXT = "player.queue.insert_next"
REMOVE = "player.queue.remove"
MOVE = "player.queue.move"
CLEAR = "player.queue.clear"
TRANSFER = "player.queue.transfer"
TAKE = "player.queue.take"
PLAY = "player.playback.play"
PAUSE = "player.playback.pause"
SEEK = "player.playback.seek"
STOP = "player.playback.stop"
NEXT = "player.playback.next"
PREVIOUS = "player.playback.previous"
ENDED = "player.track.ended"
MODE = "player.mode.set"

p = pytest.param

ACCEPTED = [
    p(Q3, act("player.device.rename", {"name": " Kitchen "}), {"device": "Kitchen"}, id="rename"),
    p(Q3, act("player.volume.set", {"volume": 0}), {"volume": 0}, id="volume-mute"),
    p(player(volume=5), act("player.volume.set", {"volume": 100}), {"volume": 100}, id="volume-max"),
    # replace
    p(EMPTY, act(REPLACE, {"tracks": [5, 6, 7]}), {"queue": [5, 6, 7], "index": 0, "order": [0, 1, 2], "position_at": AT}, id="replace-empty"),
    p(
        player(transferred_to="t9"),
        act(REPLACE, {"tracks": [5, 6, 7], "index": 2, "position_ms": 5000, "play": True}),
        {"queue": [5, 6, 7], "index": 2, "playing": True, "position_ms": 5000, "position_at": AT, "transferred_to": None},
        id="replace-play-at",
    ),
    p(PLAYING, act(REPLACE, {"tracks": [5]}), {"queue": [5], "index": 0, "order": [0], "playing": False, "position_ms": 0, "position_at": AT}, id="replace-pauses-unless-play"),
    p(EMPTY, act(REPLACE, {"tracks": [5], "position_ms": 1000, "position_at": AT - 40, "play": True}),
      {"queue": [5], "index": 0, "order": [0], "playing": True, "position_ms": 1040, "position_at": AT}, id="replace-from-a-devices-report-plays-on"),
    p(EMPTY, act(REPLACE, {"tracks": [5], "position_ms": 1000, "position_at": AT - 40}),
      {"queue": [5], "index": 0, "order": [0], "position_ms": 1000, "position_at": AT}, id="replace-from-a-report-paused"),
    p(player(transferred_to="t9"), act(REPLACE, {"tracks": [5], "play": False}), {"queue": [5], "index": 0, "order": [0], "position_at": AT}, id="replace-paused-keeps-transfer"),
    # append
    p(EMPTY, act(APPEND, {"tracks": [1, 2]}), {"queue": [1, 2], "index": 0, "order": [0, 1], "position_at": AT}, id="append-empty"),
    p(Q3, act(APPEND, {"tracks": [40]}), {"queue": [10, 20, 30, 40], "order": [0, 1, 2, 3]}, id="append"),
    p(PLAYING, act(APPEND, {"tracks": [10, 10]}), {"queue": [10, 20, 30, 10, 10], "order": [0, 1, 2, 3, 4]}, id="append-duplicates-while-playing"),
    p(SHUFFLED, act(APPEND, {"tracks": [40]}), {"queue": [10, 20, 30, 40], "order": [1, 2, 0, 3]}, id="append-shuffled-one"),
    # insert_next
    p(Q3, act(INSERT_NEXT, {"tracks": [40, 50]}), {"queue": [10, 20, 40, 50, 30], "order": [0, 1, 2, 3, 4]}, id="insert-next"),
    p(player(index=2), act(INSERT_NEXT, {"tracks": [40]}), {"queue": [10, 20, 30, 40], "order": [0, 1, 2, 3]}, id="insert-next-at-end"),
    p(EMPTY, act(INSERT_NEXT, {"tracks": [7]}), {"queue": [7], "index": 0, "order": [0], "position_at": AT}, id="insert-next-empty"),
    p(SHUFFLED, act(INSERT_NEXT, {"tracks": [40, 50]}), {"queue": [10, 20, 40, 50, 30], "order": [1, 2, 3, 4, 0]}, id="insert-next-shuffled"),
    p(
        player(index=0, shuffle=True, order=[2, 0, 1]),
        act(INSERT_NEXT, {"tracks": [40]}),
        {"queue": [10, 40, 20, 30], "order": [3, 0, 1, 2]},  # plays 30, 10, 40, 20
        id="insert-next-shuffled-mid-order",
    ),
    # remove
    p(Q3, act(REMOVE, {"index": 0}), {"queue": [20, 30], "index": 0, "order": [0, 1]}, id="remove-before-current"),
    p(Q3, act(REMOVE, {"index": 2}), {"queue": [10, 20], "order": [0, 1]}, id="remove-after-current"),
    p(PLAYING, act(REMOVE, {"index": 1}), {"queue": [10, 30], "order": [0, 1], "position_ms": 0, "position_at": AT}, id="remove-current-keeps-playing"),
    p(player(index=2), act(REMOVE, {"index": 2}), {"queue": [10, 20], "index": 1, "order": [0, 1], "position_at": AT}, id="remove-current-last"),
    p(
        player(queue=[10], index=0, playing=True, position_ms=5),
        act(REMOVE, {"index": 0}),
        {"queue": [], "index": None, "order": [], "playing": False, "position_ms": 0, "position_at": AT},
        id="remove-only-entry",
    ),
    p(player(queue=[10, 10, 10], index=1), act(REMOVE, {"index": 0}), {"queue": [10, 10], "index": 0, "order": [0, 1]}, id="remove-duplicate-before"),
    p(SHUFFLED, act(REMOVE, {"index": 1}), {"queue": [10, 30], "index": 1, "order": [1, 0], "position_at": AT}, id="remove-current-shuffled"),
    p(
        player(shuffle=True, order=[2, 0, 1]),
        act(REMOVE, {"index": 1}),
        {"queue": [10, 30], "index": 0, "order": [1, 0], "position_at": AT},  # last in order: back to 10
        id="remove-current-last-in-shuffled-order",
    ),
    p(player(shuffle=True, order=[2, 0, 1]), act(REMOVE, {"index": 0}), {"queue": [20, 30], "index": 0, "order": [1, 0]}, id="remove-before-current-shuffled"),
    # move
    p(Q3, act(MOVE, {"from_index": 0, "to_index": 2}), {"queue": [20, 30, 10], "index": 0}, id="move-before-current-to-after"),
    p(Q3, act(MOVE, {"from_index": 2, "to_index": 0}), {"queue": [30, 10, 20], "index": 2}, id="move-after-current-to-before"),
    p(Q3, act(MOVE, {"from_index": 1, "to_index": 0}), {"queue": [20, 10, 30], "index": 0}, id="move-current-up"),
    p(Q3, act(MOVE, {"from_index": 1, "to_index": 2}), {"queue": [10, 30, 20], "index": 2}, id="move-current-down"),
    p(Q3, act(MOVE, {"from_index": 1, "to_index": 1}), {}, id="move-nowhere"),
    p(player(queue=[10, 20, 30, 40], index=2), act(MOVE, {"from_index": 0, "to_index": 1}), {"queue": [20, 10, 30, 40]}, id="move-before-current-stays-before"),
    p(player(queue=[10, 20, 30, 40], index=1), act(MOVE, {"from_index": 3, "to_index": 2}), {"queue": [10, 20, 40, 30]}, id="move-after-current-stays-after"),
    p(SHUFFLED, act(MOVE, {"from_index": 0, "to_index": 2}), {"queue": [20, 30, 10], "index": 0, "order": [0, 1, 2]}, id="move-shuffled"),
    p(
        player(shuffle=True, order=[2, 1, 0]),
        act(MOVE, {"from_index": 2, "to_index": 0}),
        {"queue": [30, 10, 20], "index": 2, "order": [0, 2, 1]},  # still plays 30, 20, 10
        id="move-shuffled-keeps-play-sequence",
    ),
    # clear
    p(PLAYING, act(CLEAR), {"queue": [], "index": None, "order": [], "playing": False, "position_ms": 0, "position_at": AT}, id="clear"),
    p(EMPTY, act(CLEAR), {"position_at": AT}, id="clear-empty"),
    # play
    p(player(position_ms=5000), act(PLAY), {"playing": True, "position_at": AT}, id="play-resume"),
    p(PLAYING, act(PLAY), {"position_ms": 3000, "position_at": AT}, id="play-while-playing"),
    p(Q3, act(PLAY, {"index": 2}), {"index": 2, "playing": True, "position_at": AT}, id="play-index"),
    p(player(position_ms=9000), act(PLAY, {"index": 0, "position_ms": 1234}), {"index": 0, "playing": True, "position_ms": 1234, "position_at": AT}, id="play-index-at"),
    p(player(position_ms=9000), act(PLAY, {"index": 1}), {"playing": True, "position_ms": 0, "position_at": AT}, id="play-current-index-restarts"),
    p(player(position_ms=9000), act(PLAY, {"position_ms": 1234}), {"playing": True, "position_ms": 1234, "position_at": AT}, id="play-resume-at"),
    p(player(transferred_to="00000000-0000-4000-8000-000000000002", position_ms=100), act(PLAY), {"playing": True, "position_at": AT, "transferred_to": None}, id="play-clears-transfer"),
    # pause
    p(PLAYING, act(PAUSE), {"playing": False, "position_ms": 3000, "position_at": AT}, id="pause-freezes-live-position"),
    p(player(position_ms=700), act(PAUSE), {"position_at": AT}, id="pause-paused"),
    p(EMPTY, act(PAUSE), {"position_at": AT}, id="pause-empty"),
    p(player(playing=True, position_ms=1000, position_at=AT + 500), act(PAUSE), {"playing": False, "position_at": AT}, id="pause-before-position-at"),
    p(
        player(playing=True, position_ms=MAX_POSITION_MS - 10, position_at=AT - 1000),
        act(PAUSE),
        {"playing": False, "position_ms": MAX_POSITION_MS, "position_at": AT},
        id="pause-caps-position",
    ),
    # seek / stop
    p(PLAYING, act(SEEK, {"position_ms": 10_000}), {"position_ms": 10_000, "position_at": AT}, id="seek-playing"),
    p(player(position_ms=50), act(SEEK, {"position_ms": 0}), {"position_ms": 0, "position_at": AT}, id="seek-paused"),
    p(PLAYING, act(STOP), {"playing": False, "position_ms": 0, "position_at": AT}, id="stop"),
    p(EMPTY, act(STOP), {"position_at": AT}, id="stop-empty"),
    # next
    p(PLAYING, act(NEXT), {"index": 2, "position_ms": 0, "position_at": AT}, id="next-keeps-playing"),
    p(player(position_ms=50), act(NEXT), {"index": 2, "position_ms": 0, "position_at": AT}, id="next-keeps-paused"),
    p(player(index=2, playing=True, position_ms=100), act(NEXT), {"playing": False, "position_ms": 0, "position_at": AT}, id="next-at-end-stops"),
    p(player(index=2, playing=True, repeat="all"), act(NEXT), {"index": 0, "position_at": AT}, id="next-wraps-repeat-all"),
    p(player(index=2, playing=True, repeat="one"), act(NEXT), {"index": 0, "position_at": AT}, id="next-wraps-repeat-one"),
    p(player(index=0, repeat="one"), act(NEXT), {"index": 1, "position_at": AT}, id="next-advances-repeat-one"),
    p(player(shuffle=True, order=[1, 2, 0], index=2), act(NEXT), {"index": 0, "position_at": AT}, id="next-follows-order"),
    p(player(shuffle=True, order=[1, 2, 0], index=0, playing=True), act(NEXT), {"playing": False, "position_at": AT}, id="next-end-of-order-stops"),
    p(player(shuffle=True, order=[1, 2, 0], index=0, repeat="all"), act(NEXT), {"index": 1, "position_at": AT}, id="next-end-of-order-wraps"),
    p(player(queue=[10], index=0, playing=True, repeat="all", position_ms=50), act(NEXT), {"position_ms": 0, "position_at": AT}, id="next-single-wraps-to-itself"),
    # previous
    p(PLAYING, act(PREVIOUS), {"index": 0, "position_ms": 0, "position_at": AT}, id="previous-at-3000-goes-back"),
    p(player(playing=True, position_ms=1001, position_at=AT - 2000), act(PREVIOUS), {"position_ms": 0, "position_at": AT}, id="previous-past-3000-restarts"),
    p(player(position_ms=3500), act(PREVIOUS), {"position_ms": 0, "position_at": AT}, id="previous-paused-past-3000-restarts"),
    p(player(index=0, playing=True, position_ms=100), act(PREVIOUS), {"position_ms": 0, "position_at": AT}, id="previous-at-start-restarts"),
    p(player(index=0, repeat="all"), act(PREVIOUS), {"index": 2, "position_at": AT}, id="previous-wraps-repeat-all"),
    p(player(index=0, repeat="one"), act(PREVIOUS), {"index": 2, "position_at": AT}, id="previous-wraps-repeat-one"),
    p(player(shuffle=True, order=[1, 2, 0], index=2), act(PREVIOUS), {"index": 1, "position_at": AT}, id="previous-follows-order"),
    p(player(shuffle=True, order=[1, 2, 0], index=1, repeat="all"), act(PREVIOUS), {"index": 0, "position_at": AT}, id="previous-wraps-order"),
    # track ended
    p(player(playing=True, position_ms=200_000, repeat="one"), act(ENDED, actor=None), {"position_ms": 0, "position_at": AT}, id="ended-repeat-one-repeats"),
    p(player(playing=True, position_ms=200_000), act(ENDED, actor=None), {"index": 2, "position_ms": 0, "position_at": AT}, id="ended-advances"),
    p(player(index=2, playing=True, position_ms=200_000), act(ENDED, actor=None), {"playing": False, "position_ms": 0, "position_at": AT}, id="ended-at-end-stops"),
    p(player(index=2, playing=True, position_ms=200_000, repeat="all"), act(ENDED), {"index": 0, "position_ms": 0, "position_at": AT}, id="ended-at-end-wraps"),
    p(player(shuffle=True, order=[1, 2, 0], playing=True), act(ENDED), {"index": 2, "position_at": AT}, id="ended-follows-order"),
    # mode
    p(Q3, act(MODE, {"repeat": "all"}), {"repeat": "all"}, id="mode-repeat"),
    p(player(shuffle=True, order=[2, 0, 1], repeat="one"), act(MODE, {"shuffle": False}), {"shuffle": False, "order": [0, 1, 2]}, id="mode-shuffle-off"),
    p(player(shuffle=True, order=[2, 0, 1]), act(MODE, {"shuffle": True, "repeat": "one"}), {"repeat": "one"}, id="mode-shuffle-on-again-keeps-order"),
    p(EMPTY, act(MODE, {"shuffle": True}), {"shuffle": True}, id="mode-shuffle-empty"),
    # hand-off
    p(PLAYING, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002"}), {"playing": False, "position_ms": 3000, "position_at": AT, "transferred_to": "00000000-0000-4000-8000-000000000002"}, id="transfer-playing"),
    p(Q3, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002"}), {"position_at": AT, "transferred_to": "00000000-0000-4000-8000-000000000002"}, id="transfer-paused"),
    p(PLAYING, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002", "position_ms": 2900, "position_at": AT - 40}),
      {"playing": False, "position_ms": 2940, "position_at": AT, "transferred_to": "00000000-0000-4000-8000-000000000002"},
      id="transfer-from-the-devices-own-position"),
    p(player(queue=[1], index=0, order=[0], position_ms=500), act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002", "position_ms": 480, "position_at": AT - 40}),
      {"position_ms": 480, "position_at": AT, "transferred_to": "00000000-0000-4000-8000-000000000002"},
      id="transfer-paused-reported-position-does-not-run"),
    p(PLAYING, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002", "position_ms": 9000, "position_at": AT - 60_000}),
      {"playing": False, "position_ms": 3000, "position_at": AT, "transferred_to": "00000000-0000-4000-8000-000000000002"},
      id="transfer-stale-report-ignored"),
    p(EMPTY, act(TAKE, {"queue": [1, 2], "index": 0, "position_ms": 700, "shuffle": False, "repeat": "off", "playing": False}, actor=None),
      {"queue": [1, 2], "index": 0, "order": [0, 1], "playing": False, "position_ms": 700, "position_at": AT},
      id="take-paused"),
    p(
        EMPTY,
        act(TAKE, {"queue": [1, 2, 3], "index": 1, "position_ms": 4000, "shuffle": False, "repeat": "all"}, actor=None),
        {"queue": [1, 2, 3], "index": 1, "order": [0, 1, 2], "playing": True, "position_ms": 4000, "position_at": AT + START_LEAD_MS, "repeat": "all"},
        id="take",
    ),
    p(
        player(transferred_to="t1", volume=40, repeat="one"),
        act(TAKE, {"queue": [1, 2, 3], "index": 2, "position_ms": 0, "shuffle": True, "repeat": "off", "order": [2, 0, 1]}),
        {"queue": [1, 2, 3], "index": 2, "order": [2, 0, 1], "shuffle": True, "repeat": "off", "playing": True, "position_at": AT + START_LEAD_MS, "transferred_to": None},
        id="take-shuffled-order-keeps-volume",
    ),
    p(
        Q3,
        act(TAKE, {"queue": [7, 8], "index": 0, "position_ms": 1, "shuffle": False, "repeat": "off", "order": [0, 1]}),
        {"queue": [7, 8], "index": 0, "order": [0, 1], "playing": True, "position_ms": 1, "position_at": AT + START_LEAD_MS},
        id="take-identity-order",
    ),
]


@pytest.mark.parametrize(("start", "action", "changes"), ACCEPTED)
def test_accepted(start: dict[str, Any], action: Action, changes: dict[str, Any]) -> None:
    before = copy.deepcopy(start)
    result = PLAYER.reduce(start, action)
    assert result == {**start, **changes}
    assert start == before
    assert json.loads(json.dumps(result)) == result


FULL = player(queue=[1] * MAX_TRACKS, index=0)
NEARLY_FULL = player(queue=[1] * (MAX_TRACKS - 1), index=0)

REJECTED = [
    p(EMPTY, act(PLAY), "conflict", id="play-empty"),
    p(EMPTY, act(PLAY, {"index": 0}), "conflict", id="play-index-empty"),
    p(Q3, act(PLAY, {"index": 3}), "invalid_payload", id="play-index-out-of-range"),
    p(EMPTY, act(SEEK, {"position_ms": 0}), "conflict", id="seek-empty"),
    p(EMPTY, act(NEXT), "conflict", id="next-empty"),
    p(EMPTY, act(PREVIOUS), "conflict", id="previous-empty"),
    p(EMPTY, act(ENDED), "conflict", id="ended-empty"),
    p(Q3, act(REMOVE, {"index": 3}), "invalid_payload", id="remove-out-of-range"),
    p(EMPTY, act(REMOVE, {"index": 0}), "invalid_payload", id="remove-empty"),
    p(Q3, act(MOVE, {"from_index": 3, "to_index": 0}), "invalid_payload", id="move-from-out-of-range"),
    p(Q3, act(MOVE, {"from_index": 0, "to_index": 3}), "invalid_payload", id="move-to-out-of-range"),
    p(EMPTY, act(MOVE, {"from_index": 0, "to_index": 0}), "invalid_payload", id="move-empty"),
    p(Q3, act(REPLACE, {"tracks": [1, 2], "index": 2}), "invalid_payload", id="replace-index-out-of-range"),
    p(EMPTY, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000002"}), "conflict", id="transfer-empty"),
    p(EMPTY, act(TAKE, {"queue": [1], "index": 1, "position_ms": 0, "shuffle": False, "repeat": "off"}), "invalid_payload", id="take-index-out-of-range"),
    p(EMPTY, act(TAKE, {"queue": [1, 2], "index": 0, "position_ms": 0, "shuffle": True, "repeat": "off", "order": [0, 0]}), "invalid_payload", id="take-order-not-permutation"),
    p(EMPTY, act(TAKE, {"queue": [1, 2], "index": 0, "position_ms": 0, "shuffle": True, "repeat": "off", "order": [0]}), "invalid_payload", id="take-order-too-short"),
    p(EMPTY, act(TAKE, {"queue": [1, 2], "index": 0, "position_ms": 0, "shuffle": False, "repeat": "off", "order": [1, 0]}), "invalid_payload", id="take-order-shuffled-without-shuffle"),
    p(FULL, act(APPEND, {"tracks": [1]}), "conflict", id="append-full"),
    p(NEARLY_FULL, act(APPEND, {"tracks": [1, 2]}), "conflict", id="append-overflows"),
    p(FULL, act(INSERT_NEXT, {"tracks": [1]}), "conflict", id="insert-next-full"),
]


@pytest.mark.parametrize(("start", "action", "code"), REJECTED)
def test_rejected(start: dict[str, Any], action: Action, code: str) -> None:
    before = copy.deepcopy(start)
    with pytest.raises(ActionRejected) as caught:
        PLAYER.reduce(start, action)
    assert caught.value.code == code
    assert caught.value.message
    assert start == before


def test_append_fills_the_queue_exactly() -> None:
    assert len(PLAYER.reduce(NEARLY_FULL, act(APPEND, {"tracks": [1]}))["queue"]) == MAX_TRACKS


# -- shuffle ---------------------------------------------------------------------------

LONG = player(queue=list(range(1, 21)), index=7)


def test_shuffle_on_starts_at_current_and_is_a_permutation() -> None:
    result = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=42))
    assert result["shuffle"] is True
    assert result["order"][0] == 7
    assert sorted(result["order"]) == list(range(20))
    assert result["order"] != list(range(20))
    assert result["index"] == 7 and result["queue"] == LONG["queue"]


def test_shuffle_is_seeded() -> None:
    first = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=1))["order"]
    again = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=1))["order"]
    other = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=2))["order"]
    assert first == again == shuffled_order(20, 7, 1)
    assert first != other


def test_replace_shuffled_starts_at_index() -> None:
    result = PLAYER.reduce(player(shuffle=True, order=[0, 1, 2]), act(REPLACE, {"tracks": list(range(1, 11)), "index": 4}, seed=3))
    assert result["order"] == shuffled_order(10, 4, 3)
    assert result["order"][0] == 4


def test_append_shuffled_keeps_played_order_and_shuffles_new_entries() -> None:
    start = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=5))
    result = PLAYER.reduce(start, act(APPEND, {"tracks": list(range(100, 110))}, seed=6))
    assert result["order"][:20] == start["order"]
    assert sorted(result["order"][20:]) == list(range(20, 30))
    assert result["index"] == 7


def test_append_to_empty_shuffled_starts_at_first_entry() -> None:
    result = PLAYER.reduce({**EMPTY, "shuffle": True}, act(APPEND, {"tracks": list(range(1, 11))}, seed=9))
    assert result["index"] == 0
    assert result["order"][0] == 0 and sorted(result["order"]) == list(range(10))


def test_take_shuffled_without_order_draws_one() -> None:
    payload = {"queue": list(range(1, 11)), "index": 3, "position_ms": 0, "shuffle": True, "repeat": "off"}
    result = PLAYER.reduce(EMPTY, act(TAKE, payload, seed=4))
    assert result["order"] == shuffled_order(10, 3, 4)


def test_shuffled_playthrough_visits_every_entry_once() -> None:
    state = PLAYER.reduce(LONG, act(MODE, {"shuffle": True}, seed=11))
    state = PLAYER.reduce(state, act(PLAY))
    seen = [state["index"]]
    for _ in range(19):
        state = PLAYER.reduce(state, act(ENDED, actor=None))
        seen.append(state["index"])
    assert sorted(seen) == list(range(20))
    state = PLAYER.reduce(state, act(ENDED, actor=None))
    assert state["playing"] is False and state["index"] == seen[-1]


# -- hand-off --------------------------------------------------------------------------


def test_hand_off_moves_queue_and_position() -> None:
    source = {**PLAYING, "shuffle": True, "order": [1, 0, 2], "repeat": "all"}
    source = PLAYER.reduce(source, act(TRANSFER, {"to": "00000000-0000-4000-8000-000000000003"}))
    assert source["transferred_to"] == "00000000-0000-4000-8000-000000000003" and source["playing"] is False
    take = {key: source[key] for key in ("queue", "index", "position_ms", "shuffle", "repeat", "order")}
    target = PLAYER.reduce(player(queue=[99], index=0, volume=30), act(TAKE, take, at=AT + 50, actor=None))
    assert target == {
        **player(queue=[99], index=0, volume=30),
        "queue": [10, 20, 30],
        "index": 1,
        "order": [1, 0, 2],
        "shuffle": True,
        "repeat": "all",
        "playing": True,
        "position_ms": 3000,
        "position_at": AT + 50 + START_LEAD_MS,  # the target loads meanwhile
    }
    # Playing it back on the source clears the hand-off.
    assert PLAYER.reduce(source, act(PLAY))["transferred_to"] is None
