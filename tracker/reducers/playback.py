"""Queue and playback logic shared by the ``player`` and ``party`` kinds.

The playback fields: ``queue`` (track ids), ``index`` (current entry, None iff the queue
is empty), ``playing``, ``position_ms`` + ``position_at`` (while playing the live
position is ``position_ms + now - position_at``), ``shuffle``, ``repeat`` and ``order``
(the play order as queue indices: identity when shuffle is off, a seeded permutation
starting at the entry that was current when shuffle was turned on). Every handler here
is pure and keeps ``order`` a permutation of the queue indices.
"""
from __future__ import annotations

import random
from typing import Any, Callable, Mapping

from tracker import schemas
from tracker.schemas import MAX_POSITION_MS, MAX_TRACKS

from .base import Action, ActionRejected, State, TrackerAction

RESTART_THRESHOLD_MS = 3000  # "previous" past this point restarts the current track
# A start every listener must make together (a party's track change, a hand-off) is
# stamped this far ahead: enough for a 150 ms network, loading the track and the audio's
# start-up. The live position holds at ``position_ms`` until then.
START_LEAD_MS = 400


def initial_playback() -> State:
    """The playback fields of a fresh tracker: empty queue, paused, no shuffle, no repeat."""
    return {
        "queue": [],
        "index": None,
        "playing": False,
        "position_ms": 0,
        "position_at": 0,
        "shuffle": False,
        "repeat": "off",
        "order": [],
    }


def live_position(state: Mapping[str, Any], at_ms: int) -> int:
    """The position (ms) of the current track at ``at_ms``, capped at 24 h."""
    position: int = state["position_ms"]
    if state["playing"]:
        position += max(0, at_ms - state["position_at"])
    return min(position, MAX_POSITION_MS)


REPORT_MAX_AGE_MS = 10_000  # a device's own position report further off the server's time is ignored


def reported_position(action: Action, *, running: bool) -> int | None:
    """The position (ms) at ``at_ms`` by a device's own report (``position_ms`` at server
    time ``position_at``, moving on if ``running``), or None without a usable one."""
    payload = action.payload
    if payload.get("position_ms") is None:
        return None
    reported_at = payload.get("position_at") or action.at_ms
    age = action.at_ms - reported_at
    if abs(age) > REPORT_MAX_AGE_MS:
        return None
    return min(payload["position_ms"] + (max(0, age) if running else 0), MAX_POSITION_MS)


def paused(state: State, at_ms: int) -> State:
    """``state`` paused with its live position frozen at ``at_ms``."""
    return {**state, "playing": False, "position_ms": live_position(state, at_ms), "position_at": at_ms}


def shuffled_order(length: int, first: int | None, seed: int) -> list[int]:
    """A seeded permutation of ``range(length)`` that starts with ``first`` (if given)."""
    rest = [i for i in range(length) if i != first]
    random.Random(seed).shuffle(rest)
    return rest if first is None else [first, *rest]


def _order_for(shuffle: bool, length: int, first: int | None, seed: int) -> list[int]:
    return shuffled_order(length, first, seed) if shuffle else list(range(length))


def _require_queue(state: State) -> None:
    if not state["queue"]:
        raise ActionRejected("The queue is empty.", "conflict")


def _check_index(value: int, length: int, field: str = "index") -> None:
    if not 0 <= value < length:
        raise ActionRejected(f"{field} {value} is out of range (the queue has {length} entries).", "invalid_payload")


def _check_room(state: State, adding: int) -> None:
    if len(state["queue"]) + adding > MAX_TRACKS:
        raise ActionRejected(f"The queue cannot hold more than {MAX_TRACKS} entries.", "conflict")


def _go_to(state: State, index: int, at_ms: int) -> State:
    """Entry ``index`` from its start; playing or paused as before."""
    return {**state, "index": index, "position_ms": 0, "position_at": at_ms}


def _stopped_at_end(state: State, at_ms: int) -> State:
    return {**state, "playing": False, "position_ms": 0, "position_at": at_ms}


def _cleared(state: State, at_ms: int) -> State:
    return {**state, "queue": [], "index": None, "order": [], "playing": False, "position_ms": 0, "position_at": at_ms}


def _advance(state: State, at_ms: int) -> State:
    """The next entry in play order; wraps unless repeat is off, where it stops on the last entry."""
    order: list[int] = state["order"]
    step = order.index(state["index"]) + 1
    if step < len(order):
        return _go_to(state, order[step], at_ms)
    if state["repeat"] != "off":
        return _go_to(state, order[0], at_ms)
    return _stopped_at_end(state, at_ms)


def keep_entries(state: State, keep: Callable[[Any], bool]) -> State:
    """``state`` with only the queue entries ``keep`` accepts (used to clean stored state).

    ``order`` keeps its sequence over the remaining entries; when the current entry goes,
    the next remaining one in queue order (else the last) becomes current, from its start;
    when none remains, the queue is cleared and stopped. Never raises, whatever the entries.
    """
    queue = state.get("queue")
    queue = queue if isinstance(queue, list) else []
    kept = [i for i, entry in enumerate(queue) if keep(entry)]
    if not kept:
        return {**state, "queue": [], "index": None, "order": [], "playing": False, "position_ms": 0}
    new_index = {old: new for new, old in enumerate(kept)}
    old_order = state.get("order") if isinstance(state.get("order"), list) else []
    order = [new_index[i] for i in old_order if i in new_index]
    if sorted(order) != list(range(len(kept))):
        order = list(range(len(kept)))
    current = state.get("index")
    if type(current) is int and current in new_index:
        return {**state, "queue": [queue[i] for i in kept], "order": order, "index": new_index[current]}
    after = [new for old, new in new_index.items() if type(current) is int and old > current]
    index = after[0] if after else len(kept) - 1
    return {**state, "queue": [queue[i] for i in kept], "order": order, "index": index, "position_ms": 0}


# -- queue ----------------------------------------------------------------------------


def queue_replace(state: State, action: Action) -> State:
    """A new queue, starting at ``index`` (0) and ``position_ms`` (0; at ``position_at``
    when given: a device's report, moving on while playing), playing if ``play``."""
    payload = action.payload
    tracks = list(payload["tracks"])
    index: int = payload.get("index", 0)
    _check_index(index, len(tracks))
    play = bool(payload.get("play", False))
    position = reported_position(action, running=play)
    return {
        **state,
        "queue": tracks,
        "index": index,
        "order": _order_for(state["shuffle"], len(tracks), index, action.seed),
        "playing": play,
        "position_ms": payload.get("position_ms", 0) if position is None else position,
        "position_at": action.at_ms,
    }


def queue_append(state: State, action: Action) -> State:
    """Tracks added at the end (shuffled into the end of the play order when shuffle is on)."""
    tracks = list(action.payload["tracks"])
    _check_room(state, len(tracks))
    old_length = len(state["queue"])
    queue = state["queue"] + tracks
    if old_length == 0:
        order = _order_for(state["shuffle"], len(queue), 0, action.seed)
        return {**state, "queue": queue, "index": 0, "order": order, "position_ms": 0, "position_at": action.at_ms}
    added = list(range(old_length, len(queue)))
    if state["shuffle"]:
        random.Random(action.seed).shuffle(added)
    return {**state, "queue": queue, "order": state["order"] + added}


def queue_insert_next(state: State, action: Action) -> State:
    """Tracks inserted right after the current entry, in queue and in play order."""
    if not state["queue"]:
        return queue_append(state, action)
    tracks = list(action.payload["tracks"])
    _check_room(state, len(tracks))
    at = state["index"] + 1
    queue = state["queue"][:at] + tracks + state["queue"][at:]
    added = list(range(at, at + len(tracks)))
    if state["shuffle"]:
        shifted = [i + len(tracks) if i >= at else i for i in state["order"]]
        step = shifted.index(state["index"]) + 1
        order = shifted[:step] + added + shifted[step:]
    else:
        order = list(range(len(queue)))
    return {**state, "queue": queue, "order": order}


def queue_remove(state: State, action: Action) -> State:
    """Entry ``index`` removed; removing the current entry moves to the one that takes its place in play order (or the previous one at the end), from its start."""
    removed: int = action.payload["index"]
    _check_index(removed, len(state["queue"]))
    queue = state["queue"][:removed] + state["queue"][removed + 1 :]
    if not queue:
        return _cleared(state, action.at_ms)
    step = state["order"].index(removed)
    order = [i - 1 if i > removed else i for i in state["order"] if i != removed]
    current: int = state["index"]
    if removed < current:
        return {**state, "queue": queue, "order": order, "index": current - 1}
    if removed > current:
        return {**state, "queue": queue, "order": order}
    return _go_to({**state, "queue": queue, "order": order}, order[min(step, len(order) - 1)], action.at_ms)


def queue_move(state: State, action: Action) -> State:
    """Entry ``from_index`` moved so that it ends at ``to_index``; the current entry stays current."""
    source: int = action.payload["from_index"]
    target: int = action.payload["to_index"]
    length = len(state["queue"])
    _check_index(source, length, "from_index")
    _check_index(target, length, "to_index")

    def remap(i: int) -> int:
        if i == source:
            return target
        i -= 1 if i > source else 0
        return i + 1 if i >= target else i

    rest = state["queue"][:source] + state["queue"][source + 1 :]
    queue = rest[:target] + [state["queue"][source]] + rest[target:]
    order = [remap(i) for i in state["order"]] if state["shuffle"] else list(range(length))
    return {**state, "queue": queue, "order": order, "index": remap(state["index"])}


def queue_clear(state: State, action: Action) -> State:
    """An empty queue, stopped."""
    return _cleared(state, action.at_ms)


def queue_take(state: State, action: Action) -> State:
    """A queue handed over from another tracker, playing unless ``playing`` is false, from
    ``position_ms``: where the source stopped, so a playing hand-off starts ``START_LEAD_MS``
    ahead (the target loads the track meanwhile) rather than skip what loading takes."""
    payload = action.payload
    queue = list(payload["queue"])
    index: int = payload["index"]
    shuffle: bool = payload["shuffle"]
    _check_index(index, len(queue))
    if "order" in payload:
        order = list(payload["order"])
        if sorted(order) != list(range(len(queue))):
            raise ActionRejected("order must be a permutation of the queue indices.", "invalid_payload")
        if not shuffle and order != list(range(len(queue))):
            raise ActionRejected("order must be the queue order when shuffle is off.", "invalid_payload")
    else:
        order = _order_for(shuffle, len(queue), index, action.seed)
    return {
        **state,
        "queue": queue,
        "index": index,
        "order": order,
        "shuffle": shuffle,
        "repeat": payload["repeat"],
        "playing": payload.get("playing", True),
        "position_ms": payload["position_ms"],
        "position_at": action.at_ms + (START_LEAD_MS if payload.get("playing", True) else 0),
    }


# -- playback -------------------------------------------------------------------------


def playback_play(state: State, action: Action) -> State:
    """Play entry ``index`` from ``position_ms`` (0), or resume the current one (at ``position_ms`` if given)."""
    _require_queue(state)
    payload = action.payload
    if "index" in payload:
        _check_index(payload["index"], len(state["queue"]))
        index: int = payload["index"]
        position: int = payload.get("position_ms", 0)
    else:
        index = state["index"]
        position = payload.get("position_ms", live_position(state, action.at_ms))
    return {**state, "index": index, "playing": True, "position_ms": position, "position_at": action.at_ms}


def playback_pause(state: State, action: Action) -> State:
    """Paused, the live position frozen at ``at_ms``."""
    return paused(state, action.at_ms)


def playback_seek(state: State, action: Action) -> State:
    """The current track at ``position_ms``; playing or paused as before."""
    _require_queue(state)
    return {**state, "position_ms": action.payload["position_ms"], "position_at": action.at_ms}


def playback_stop(state: State, action: Action) -> State:
    """Paused at position 0 of the current entry."""
    return {**state, "playing": False, "position_ms": 0, "position_at": action.at_ms}


def playback_next(state: State, action: Action) -> State:
    """The next entry in play order (advances even under repeat one)."""
    _require_queue(state)
    return _advance(state, action.at_ms)


def playback_previous(state: State, action: Action) -> State:
    """Past 3 s restart the track, else the previous entry in play order (wrapping unless repeat is off)."""
    _require_queue(state)
    if live_position(state, action.at_ms) > RESTART_THRESHOLD_MS:
        return _go_to(state, state["index"], action.at_ms)
    order: list[int] = state["order"]
    step = order.index(state["index"])
    if step > 0:
        return _go_to(state, order[step - 1], action.at_ms)
    if state["repeat"] != "off":
        return _go_to(state, order[-1], action.at_ms)
    return _go_to(state, state["index"], action.at_ms)


def track_ended(state: State, action: Action) -> State:
    """The current track finished: repeat it (repeat one), else advance like ``next``."""
    _require_queue(state)
    if state["repeat"] == "one":
        return _go_to(state, state["index"], action.at_ms)
    return _advance(state, action.at_ms)


def mode_set(state: State, action: Action) -> State:
    """Shuffle and/or repeat; turning shuffle on draws a new order starting at the current entry."""
    shuffle: bool = action.payload.get("shuffle", state["shuffle"])
    repeat: str = action.payload.get("repeat", state["repeat"])
    order = state["order"]
    if shuffle != state["shuffle"]:
        order = _order_for(shuffle, len(state["queue"]), state["index"], action.seed)
    return {**state, "shuffle": shuffle, "repeat": repeat, "order": order}


# The queue and playback actions, accepted by players and parties alike.
PLAYBACK_ACTIONS: tuple[TrackerAction, ...] = (
    TrackerAction("player.queue.replace", schemas.QueueReplace, queue_replace,
                  "Replace the queue (optionally start at `index`/`position_ms`, playing when `play`)."),
    TrackerAction("player.queue.append", schemas.QueueTracks, queue_append, "Add tracks at the end of the queue."),
    TrackerAction("player.queue.insert_next", schemas.QueueTracks, queue_insert_next,
                  "Add tracks right after the current one."),
    TrackerAction("player.queue.remove", schemas.QueueRemove, queue_remove, "Remove the queue entry at `index`."),
    TrackerAction("player.queue.move", schemas.QueueMove, queue_move, "Move a queue entry."),
    TrackerAction("player.queue.clear", schemas.Empty, queue_clear, "Empty the queue and stop."),
    TrackerAction("player.queue.take", schemas.QueueTake, queue_take,
                  "Take over a queue handed off by another device (server only).", server_only=True),
    TrackerAction("player.playback.play", schemas.PlaybackPlay, playback_play,
                  "Play (the current entry, or `index`, from `position_ms`)."),
    TrackerAction("player.playback.pause", schemas.Empty, playback_pause, "Pause at the live position."),
    TrackerAction("player.playback.seek", schemas.PlaybackSeek, playback_seek,
                  "Jump to `position_ms` in the current track."),
    TrackerAction("player.playback.stop", schemas.Empty, playback_stop, "Stop: paused at position 0."),
    TrackerAction("player.playback.next", schemas.Empty, playback_next,
                  "Go to the next entry (per shuffle order and repeat)."),
    TrackerAction("player.playback.previous", schemas.Empty, playback_previous,
                  "Restart the track, or go to the previous entry within its first 3 s."),
    TrackerAction("player.track.ended", schemas.Empty, track_ended,
                  "The current track finished playing: advance per repeat mode."),
    TrackerAction("player.mode.set", schemas.ModeSet, mode_set, "Set shuffle and/or repeat (off, all, one)."),
)
