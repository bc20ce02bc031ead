"""Tests every registered kind shares: registry, schemas, purity, determinism and invariants."""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import tracker.actions  # noqa: F401  (registers the bus actions)
from common.registry import Permission, registry
from tracker.reducers import ACTIONS, PAYLOADS, REDUCERS, Action, ActionRejected, Reducer, get_reducer, validate_payload
from tracker.reducers.base import clone
from tracker.schemas import MAX_POSITION_MS, MAX_TRACKS

KINDS = sorted(REDUCERS)
AT = 1_000_000


# -- registry --------------------------------------------------------------------------


def test_registry() -> None:
    assert set(KINDS) == {"player", "party", "library.scan"}
    for kind, reducer in REDUCERS.items():
        assert isinstance(reducer, Reducer) and reducer.kind == kind
        assert get_reducer(kind) is reducer
    with pytest.raises(KeyError):
        get_reducer("nope")


def test_every_action_has_a_schema_and_a_kind() -> None:
    handled = {name for reducer in REDUCERS.values() for name in reducer.handlers}
    assert handled == set(PAYLOADS)


def test_an_action_accepted_by_several_kinds_is_declared_once() -> None:
    """Players and parties wrap the shared playback handlers; everything else is the one declaration."""
    for reducer in REDUCERS.values():
        for action in reducer.actions:
            declared = ACTIONS[action.name]
            assert (action.payload, action.doc, action.server_only, action.own_bus_action, action.staff_event) == (
                declared.payload, declared.doc, declared.server_only, declared.own_bus_action, declared.staff_event)


def test_the_bus_actions_come_from_the_declarations() -> None:
    for name, declared in ACTIONS.items():
        spec = registry.actions[name]
        if declared.own_bus_action and name != "library.scan.cancel":
            assert (spec.payload, spec.doc) == (declared.payload, declared.doc)
        elif not declared.own_bus_action:
            assert (spec.payload, spec.doc, spec.targets_tracker) == (declared.payload, declared.doc, True)
            assert (spec.permission == Permission.SERVER) == declared.server_only


@pytest.mark.parametrize("kind", KINDS)
def test_initial_state_is_fresh_and_json(kind: str) -> None:
    reducer = REDUCERS[kind]
    first, second = reducer.initial_state(), reducer.initial_state()
    assert first == second and first is not second
    assert json.loads(json.dumps(first)) == first
    for key, value in first.items():
        if isinstance(value, list):
            assert value is not second[key]


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_action_returns_the_same_state(kind: str) -> None:
    reducer = REDUCERS[kind]
    state = reducer.initial_state()
    action = Action("nobody.knows.this", {"x": 1}, AT, 1)
    assert not reducer.accepts(action.name)
    assert reducer.reduce(state, action) is state


@pytest.mark.parametrize("kind", KINDS)
def test_accepts_its_handlers(kind: str) -> None:
    reducer = REDUCERS[kind]
    assert all(reducer.accepts(name) for name in reducer.handlers)


def test_rejection_carries_message_and_code() -> None:
    error = ActionRejected("nope", "forbidden")
    assert (str(error), error.message, error.code) == ("nope", "nope", "forbidden")
    assert ActionRejected("nope").code == "conflict"


def test_clone_shares_nothing_mutable() -> None:
    value = {"a": [1, {"b": [2]}], "c": "d"}
    copied = clone(value)
    assert copied == value
    copied["a"][1]["b"].append(3)
    assert value == {"a": [1, {"b": [2]}], "c": "d"}


# -- schemas ---------------------------------------------------------------------------


def test_validate_payload_keeps_absent_optionals_absent() -> None:
    assert validate_payload("player.queue.replace", {"tracks": [1, 2]}) == {"tracks": [1, 2]}
    assert validate_payload("player.playback.play", {}) == {}
    assert validate_payload("player.mode.set", {"repeat": "one"}) == {"repeat": "one"}
    assert validate_payload("library.scan.complete", {}) == {}
    assert validate_payload("party.session.create", {"name": "  Friday "}) == {"name": "Friday"}


def test_validate_payload_unknown_name() -> None:
    with pytest.raises(KeyError):
        validate_payload("player.queue.shuffle", {})


BAD_PAYLOADS = [
    ("player.queue.append", {"tracks": []}),
    ("player.queue.append", {"tracks": [1] * (MAX_TRACKS + 1)}),
    ("player.queue.append", {"tracks": [0]}),
    ("player.queue.append", {"tracks": ["1"]}),
    ("player.queue.append", {"tracks": [1.0]}),
    ("player.queue.append", {"tracks": [True]}),
    ("player.queue.append", {"tracks": [1], "extra": 1}),
    ("player.queue.replace", {"tracks": [1], "index": -1}),
    ("player.queue.replace", {"tracks": [1], "index": None}),
    ("player.queue.replace", {"tracks": [1], "position_ms": MAX_POSITION_MS + 1}),
    ("player.queue.replace", {"tracks": [1], "play": 1}),
    ("player.queue.remove", {}),
    ("player.queue.move", {"from_index": 0}),
    ("player.queue.clear", {"index": 0}),
    ("player.queue.transfer", {"to": ""}),
    ("player.queue.transfer", {"to": "x" * 65}),
    ("player.queue.take", {"queue": [1], "index": 0, "position_ms": 0, "shuffle": False}),
    ("player.queue.take", {"queue": [1], "index": 0, "position_ms": 0, "shuffle": False, "repeat": "twice"}),
    ("player.playback.seek", {"position_ms": -1}),
    ("player.playback.play", {"position_ms": "10"}),
    ("player.volume.set", {"volume": 101}),
    ("player.volume.set", {"volume": -1}),
    ("player.quality.set", {"quality": "lossless"}),
    ("player.quality.set", {}),
    ("player.mode.set", {}),
    ("player.mode.set", {"shuffle": None}),
    ("player.device.rename", {"name": ""}),
    ("player.device.rename", {"name": "   "}),
    ("player.device.rename", {"name": "x" * 101}),
    ("party.session.create", {"name": None}),
    ("party.control.set", {}),
    ("party.control.set", {"members_control": "yes"}),
    ("library.scan.begin", {"scan_id": 0, "trigger": "manual"}),
    ("library.scan.begin", {"scan_id": 1}),
    ("library.scan.report", {"parsed": -1}),
    ("library.scan.report", {"phase": "dancing"}),
    ("library.scan.fail", {}),
    ("library.scan.fail", {"message": ""}),
]


@pytest.mark.parametrize(("name", "raw"), BAD_PAYLOADS, ids=[f"{name}-{i}" for i, (name, _) in enumerate(BAD_PAYLOADS)])
def test_bad_payloads(name: str, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate_payload(name, raw)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_schema_is_strict_and_closed(name: str) -> None:
    config = PAYLOADS[name].model_config
    assert config.get("extra") == "forbid" and config.get("strict") is True


# -- properties ------------------------------------------------------------------------

tracks = st.lists(st.integers(1, 30), min_size=1, max_size=6)
index = st.integers(0, 5)
position = st.integers(0, 400_000)
repeat = st.sampled_from(["off", "all", "one"])
name = st.sampled_from(["Kitchen", "Party", "x" * 100])


def _take(queue: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"queue": st.just(queue), "index": st.integers(0, len(queue)), "position_ms": position, "shuffle": st.booleans(), "repeat": repeat},
        optional={"order": st.permutations(list(range(len(queue))))},
    )


PAYLOAD_STRATEGIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "player.device.rename": st.fixed_dictionaries({"name": name}),
    "player.queue.replace": st.fixed_dictionaries({"tracks": tracks}, optional={"index": index, "position_ms": position, "play": st.booleans()}),
    "player.queue.append": st.fixed_dictionaries({"tracks": tracks}),
    "player.queue.insert_next": st.fixed_dictionaries({"tracks": tracks}),
    "player.queue.remove": st.fixed_dictionaries({"index": index}),
    "player.queue.move": st.fixed_dictionaries({"from_index": index, "to_index": index}),
    "player.queue.clear": st.just({}),
    "player.queue.transfer": st.fixed_dictionaries({"to": st.sampled_from(["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"])}),
    "player.queue.take": tracks.flatmap(_take),
    "player.playback.play": st.fixed_dictionaries({}, optional={"index": index, "position_ms": position}),
    "player.playback.pause": st.just({}),
    "player.playback.seek": st.fixed_dictionaries({"position_ms": position}),
    "player.playback.next": st.just({}),
    "player.playback.previous": st.just({}),
    "player.playback.stop": st.just({}),
    "player.volume.set": st.fixed_dictionaries({"volume": st.integers(0, 100)}),
    "player.quality.set": st.fixed_dictionaries({"quality": st.sampled_from(["original", "high", "mobile"])}),
    "player.mode.set": st.fixed_dictionaries({}, optional={"shuffle": st.booleans(), "repeat": repeat}).filter(bool),
    "player.track.ended": st.just({}),
    "party.session.create": st.fixed_dictionaries({}, optional={"name": name}),
    "party.session.join": st.just({}),
    "party.session.leave": st.just({}),
    "party.session.end": st.just({}),
    "party.control.set": st.fixed_dictionaries({"members_control": st.booleans()}),
    "library.scan.begin": st.fixed_dictionaries({"scan_id": st.integers(1, 5), "trigger": st.sampled_from(["manual", "schedule"])}),
    "library.scan.report": st.fixed_dictionaries(
        {},
        optional={
            "phase": st.sampled_from(["walking", "parsing", "writing", "cleaning"]),
            **{counter: st.integers(0, 1000) for counter in ("files_seen", "parsed", "added", "updated", "removed", "unchanged", "errors")},
        },
    ),
    "library.scan.cancel": st.just({}),
    "library.scan.complete": st.fixed_dictionaries({}, optional={"message": st.text(min_size=1, max_size=20)}),
    "library.scan.fail": st.fixed_dictionaries({"message": st.text(min_size=1, max_size=20)}),
    "library.scan.halt": st.just({}),
}


def test_every_action_has_a_strategy() -> None:
    assert set(PAYLOAD_STRATEGIES) == set(PAYLOADS)


RawAction = tuple[str, dict[str, Any], int, int | None, int]  # name, payload, time step, actor, seed


@st.composite
def _raw_action(draw: Callable[..., Any], names: st.SearchStrategy[str]) -> RawAction:
    action_name = draw(names)
    payload = draw(PAYLOAD_STRATEGIES[action_name])
    step = draw(st.integers(0, 10_000))
    actor = draw(st.sampled_from([None, 1, 2, 3]))
    seed = draw(st.integers(-(2**63), 2**63 - 1))
    return action_name, payload, step, actor, seed


@st.composite
def _party_setup(draw: Callable[..., Any]) -> list[RawAction]:
    """Mostly: someone creates the party and some others join (so later actions get past the checks)."""
    if draw(st.integers(0, 4)) == 0:
        return []
    host = draw(st.sampled_from([1, 2, 3]))
    setup: list[RawAction] = [("party.session.create", {}, 0, host, 0)]
    for member in (1, 2, 3):
        if member != host and draw(st.booleans()):
            setup.append(("party.session.join", {}, 0, member, 0))
    if draw(st.booleans()):
        setup.append(("party.control.set", {"members_control": True}, 0, host, 0))
    return setup


def _actions(kind: str) -> st.SearchStrategy[list[Action]]:
    """Schema-valid actions, mostly of ``kind`` (some of other kinds), at non-decreasing times."""
    own = st.sampled_from(sorted(REDUCERS[kind].handlers))
    names = st.one_of(own, own, own, st.sampled_from(sorted(PAYLOADS)))
    setup = _party_setup() if kind == "party" else st.just([])

    def stamp(raw: tuple[list[RawAction], list[RawAction]]) -> list[Action]:
        actions, at = [], AT
        for action_name, payload, step, actor, seed in raw[0] + raw[1]:
            at += step
            actions.append(Action(action_name, validate_payload(action_name, payload), at, actor, seed))
        return actions

    return st.tuples(setup, st.lists(_raw_action(names), max_size=40)).map(stamp)


def _check_invariants(kind: str, state: dict[str, Any]) -> None:
    assert set(state) == set(REDUCERS[kind].initial_state())
    if kind in ("player", "party"):
        queue, current, order = state["queue"], state["index"], state["order"]
        assert (current is None) == (not queue)
        if current is not None:
            assert 0 <= current < len(queue)
        assert sorted(order) == list(range(len(queue)))
        if not state["shuffle"]:
            assert order == list(range(len(queue)))
        if not queue:
            assert state["playing"] is False
        assert len(queue) <= MAX_TRACKS
        assert 0 <= state["position_ms"] <= MAX_POSITION_MS
        assert state["repeat"] in ("off", "all", "one")
    if kind == "player":
        assert 0 <= state["volume"] <= 100
        assert state["quality"] in ("original", "high", "mobile")
    if kind == "party":
        members = state["members"]
        assert members == sorted(set(members))
        if state["host"] is not None:
            assert state["host"] in members
        elif not state["ended"]:
            assert members == [] and not state["queue"]
        if state["ended"]:
            assert state["playing"] is False
    if kind == "library.scan":
        assert state["status"] in ("idle", "running", "cancelling", "completed", "failed", "cancelled")
        assert (state["scan_id"] is None) == (state["status"] == "idle")
        assert (state["finished_at"] is not None) == (state["status"] in ("completed", "failed", "cancelled"))
        assert all(state[counter] >= 0 for counter in ("files_seen", "parsed", "added", "updated", "removed", "unchanged", "errors"))


def _dumps(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_replay_is_deterministic_and_states_stay_valid(kind: str, data: st.DataObject) -> None:
    reducer = REDUCERS[kind]
    actions = data.draw(_actions(kind))
    state = reducer.initial_state()
    _check_invariants(kind, state)
    accepted: list[Action] = []
    for action in actions:
        before = copy.deepcopy(state)
        try:
            result = reducer.reduce(state, action)
            if reducer.accepts(action.name):
                # The handler itself is pure too, not only ``reduce``.
                assert reducer.handlers[action.name](state, action) == result
        except ActionRejected as error:
            assert error.code in ("conflict", "invalid_payload", "forbidden")
            assert state == before
            continue
        assert state == before, "the reducer mutated its input"
        if not reducer.accepts(action.name):
            assert result is state
        else:
            assert result is not state
        round_tripped = json.loads(json.dumps(result))
        assert _dumps(round_tripped) == _dumps(result), "state is not JSON-stable"
        _check_invariants(kind, round_tripped)
        state = round_tripped
        accepted.append(action)

    replayed = reducer.initial_state()
    for action in accepted:
        replayed = reducer.reduce(replayed, action)
    assert _dumps(replayed) == _dumps(state)
