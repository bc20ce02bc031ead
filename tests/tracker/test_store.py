"""The store: atomic dispatch, the log, replay, resync, compaction, events after commit."""
from __future__ import annotations

import pytest
from django.db import transaction

from common.errors import Conflict, InvalidPayload, NotFound, UnknownAction
from tracker import services, store
from tracker.models import Tracker, TrackerAction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def player(make_user):
    return store.get_or_create("player", owner=make_user("alice"), key="phone")


def test_get_or_create_returns_the_same_tracker_for_the_same_key(player):
    again = store.get_or_create("player", owner=player.owner, key="phone")
    assert again.pk == player.pk
    assert again.version == 0 and again.state == player.state


def test_dispatch_bumps_version_writes_the_log_and_returns_changes(player):
    applied = store.dispatch(player.pk, "player.queue.replace", {"tracks": [5, 6, 7]}, actor=player.owner_id)
    assert applied.version == 1
    assert applied.changes["queue"] == [5, 6, 7]
    assert applied.changes["index"] == 0
    player.refresh_from_db()
    assert player.version == 1 and player.state["queue"] == [5, 6, 7]
    record = TrackerAction.objects.get(tracker=player, version=1)
    assert record.name == "player.queue.replace" and record.payload == {"tracks": [5, 6, 7]}
    assert record.actor == player.owner_id and record.at_ms > 0 and record.origin


def test_refused_action_changes_nothing(player):
    with pytest.raises(Conflict):
        store.dispatch(player.pk, "player.playback.play", {})  # empty queue
    with pytest.raises(InvalidPayload):
        store.dispatch(player.pk, "player.queue.remove", {"index": 3})
    with pytest.raises(UnknownAction):
        store.dispatch(player.pk, "party.session.join", {})
    with pytest.raises(NotFound):
        store.dispatch("00000000-0000-0000-0000-000000000000", "player.playback.pause", {})
    player.refresh_from_db()
    assert player.version == 0 and not TrackerAction.objects.exists()


def test_expected_version_gives_conflict_when_stale(player):
    store.dispatch(player.pk, "player.queue.replace", {"tracks": [1]}, expected_version=0)
    with pytest.raises(Conflict):
        store.dispatch(player.pk, "player.playback.play", {}, expected_version=0)
    assert Tracker.objects.get(pk=player.pk).version == 1


def test_rolled_back_dispatch_leaves_no_trace(player):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            store.dispatch(player.pk, "player.queue.replace", {"tracks": [1, 2]})
            raise RuntimeError("the caller failed")
    player.refresh_from_db()
    assert player.version == 0 and player.state["queue"] == []
    assert not TrackerAction.objects.exists()


SEQUENCE = [
    ("player.queue.replace", {"tracks": [1, 2, 3, 4], "index": 1, "play": True}),
    ("player.mode.set", {"shuffle": True, "repeat": "all"}),
    ("player.playback.next", {}),
    ("player.queue.append", {"tracks": [9, 9]}),
    ("player.queue.move", {"from_index": 0, "to_index": 3}),
    ("player.playback.pause", {}),
    ("player.playback.seek", {"position_ms": 12_000}),
    ("player.volume.set", {"volume": 40}),
    ("player.queue.remove", {"index": 2}),
    ("player.playback.previous", {}),
]


def run_sequence(tracker):
    for name, payload in SEQUENCE:
        store.dispatch(tracker.pk, name, payload, actor=tracker.owner_id)


def test_replaying_the_log_gives_the_stored_state(player):
    run_sequence(player)
    player.refresh_from_db()
    assert player.version == len(SEQUENCE)
    assert store.replay(player) == player.state


def test_actions_since_bring_a_stale_copy_to_the_current_state(player):
    store.dispatch(player.pk, "player.queue.replace", {"tracks": [1, 2, 3]})
    stale = store.snapshot(Tracker.objects.get(pk=player.pk))
    run_sequence(player)
    player.refresh_from_db()
    missing = store.actions_since(player, stale["version"])
    assert [a["version"] for a in missing] == list(range(stale["version"] + 1, player.version + 1))
    state = dict(stale["state"])
    for action in missing:
        state.update(action["changes"])
    assert state == player.state


def test_compaction_keeps_replay_exact_and_forces_snapshots_for_old_versions(player):
    run_sequence(player)
    removed = store.compact(player.pk, keep=3)
    player.refresh_from_db()
    assert removed == len(SEQUENCE) - 3
    assert player.base_version == len(SEQUENCE) - 3
    assert TrackerAction.objects.filter(tracker=player).count() == 3
    assert store.replay(player) == player.state
    assert store.actions_since(player, 1) is None  # gone: a snapshot is needed
    assert len(store.actions_since(player, player.version - 2)) == 2


def test_compact_logs_upkeep_only_touches_long_logs(player, make_user):
    run_sequence(player)
    short = store.get_or_create("player", owner=player.owner, key="tablet")
    store.dispatch(short.pk, "player.volume.set", {"volume": 10})
    assert services.compact_logs(max_length=5, keep=2) == len(SEQUENCE) - 2
    assert TrackerAction.objects.filter(tracker=short).count() == 1


def test_expire_idle_players(player):
    Tracker.objects.filter(pk=player.pk).update(updated="2000-01-01T00:00:00Z")
    fresh = store.get_or_create("player", owner=player.owner, key="laptop")
    assert services.expire_idle_players(days=30) == 1
    assert list(Tracker.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_event_is_broadcast_after_commit_only(player, monkeypatch):
    published = []
    monkeypatch.setattr(store, "publish", published.append)
    with transaction.atomic():
        store.dispatch(player.pk, "player.volume.set", {"volume": 50})
        assert published == []  # not before commit
    assert [p.version for p in published] == [1]
    assert published[0].event() == {
        "tracker": str(player.pk),
        "version": 1,
        "action": "player.volume.set",
        "payload": {"volume": 50},
        "changes": {"volume": 50},
    }
