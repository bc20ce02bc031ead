"""The play queue and bookmarks: getPlayQueue, savePlayQueue, getPlayQueueByIndex and
savePlayQueueByIndex (OpenSubsonic ``indexBasedQueue``), getBookmarks, createBookmark,
deleteBookmark.

A Subsonic app's play queue is one of the user's devices: ``savePlayQueue`` registers (or
finds) the user's ``player`` tracker named after the client (``c``), through
``tracker.services.register_device``, and replaces its queue with
``player.queue.replace {tracks, index, position_ms}`` through ``tracker.services.act``, so
every browser subscribed to that device sees the change live as a tracker event. An
unchanged queue dispatches nothing (apps save it often); an empty one clears the device.

There is one play queue per user, as in Subsonic: ``getPlayQueue`` answers the user's device
whose queue or playback changed last (``tracker.services.latest_queue``), whichever client
it is (another app, a browser tab), with ``changedBy`` naming that device. So an app resumes
what the browser was playing and the reverse, while each app stays a device of its own that
the browser sees and controls.
"""
from __future__ import annotations

import datetime
from typing import Any

from library.userdata import bookmarks, shared
from tracker import services as trackers
from tracker import store
from tracker.reducers.playback import live_position
from tracker.schemas import MAX_POSITION_MS

from .. import ids, queries, shapes
from ..responses import InvalidParameter
from . import DEFAULT_CLIENT, Call, method

ACTION_REPLACE = "player.queue.replace"
ACTION_CLEAR = "player.queue.clear"
MAX_DEVICE_NAME = 100


def device_name(call: Call) -> str:
    return (call.client or "").strip()[:MAX_DEVICE_NAME] or DEFAULT_CLIENT


def _track_ids(call: Call) -> list[int]:
    track_ids = [ids.parse(value, ids.TRACK) for value in call.params.getlist("id")]
    shared.check_tracks(track_ids)  # before the device is registered
    return track_ids


def _save(call: Call, track_ids: list[int], index: int, position: int) -> dict[str, Any]:
    """This app's device takes the queue (or is cleared by an empty one); an unchanged queue
    dispatches nothing."""
    context = call.context
    device = trackers.register_device(context, device_name(call))
    state = device["state"]
    if not track_ids:
        if state["queue"]:
            trackers.act(context, device["tracker"], ACTION_CLEAR, {})
        return {}
    if state["queue"] == track_ids and state["index"] == index and live_position(state, store.now_ms()) == position:
        return {}
    payload = store.validate_action_payload(ACTION_REPLACE, {"tracks": track_ids, "index": index, "position_ms": position})
    trackers.act(context, device["tracker"], ACTION_REPLACE, payload)
    return {}


@method("savePlayQueue")
def save_play_queue(call: Call) -> dict[str, Any]:
    track_ids = _track_ids(call)
    current = ids.parse(call.params.get("current"), ids.TRACK) if call.params.get("current") else None
    position = call.params.int("position", 0, minimum=0, maximum=MAX_POSITION_MS)
    return _save(call, track_ids, track_ids.index(current) if current in track_ids else 0, position)


@method("savePlayQueueByIndex")
def save_play_queue_by_index(call: Call) -> dict[str, Any]:
    """OpenSubsonic ``indexBasedQueue``: the current entry by its index (a song may be queued twice)."""
    track_ids = _track_ids(call)
    index = call.params.int("currentIndex", None if track_ids else 0, required=bool(track_ids))
    if track_ids and not 0 <= index < len(track_ids):
        raise InvalidParameter("currentIndex", f"must be from 0 to {len(track_ids) - 1}, got {index}.")
    position = call.params.int("position", 0, minimum=0, maximum=MAX_POSITION_MS)
    return _save(call, track_ids, index, position)


def _queue(call: Call) -> dict[str, Any]:
    """The user's latest queue (``index`` = the current entry's index), or the empty one."""
    saved = trackers.latest_queue(call.context)
    if saved is None:
        # No queue anywhere: the empty one OpenSubsonic requires, dated when the user joined so
        # that an app comparing dates keeps its own queue rather than clearing it.
        return {"index": None, "position": None, "username": call.user.get_username(),
                "changed": shapes.iso(call.user.date_joined), "changedBy": device_name(call), "entry": []}
    state = saved["state"]
    tracks = queries.tracks_by_ids(state["queue"])
    marks = shapes.marks_for(call.user, tracks=tracks)
    changed = datetime.datetime.fromtimestamp(saved["changed_ms"] / 1000, tz=datetime.timezone.utc)
    return {
        "index": state["index"],
        "position": live_position(state, store.now_ms()),
        "username": call.user.get_username(),
        "changed": shapes.iso(changed),
        "changedBy": state.get("device") or saved["key"],
        "entry": [shapes.song(track, marks) for track in tracks],
        "queue": state["queue"],
    }


@method("getPlayQueue")
def get_play_queue(call: Call) -> dict[str, Any]:
    queue = _queue(call)
    index, track_ids = queue.pop("index"), queue.pop("queue", [])
    return {"playQueue": {"current": ids.track(track_ids[index]) if index is not None else None, **queue}}


@method("getPlayQueueByIndex")
def get_play_queue_by_index(call: Call) -> dict[str, Any]:
    """OpenSubsonic ``indexBasedQueue``: the same queue with ``currentIndex``."""
    queue = _queue(call)
    index = queue.pop("index")
    queue.pop("queue", None)
    return {"playQueueByIndex": {"currentIndex": index, **queue}}


# -- bookmarks ------------------------------------------------------------------------------


@method("getBookmarks")
def get_bookmarks(call: Call) -> dict[str, Any]:
    saved = bookmarks.bookmark_list(call.user)
    marks = shapes.marks_for(call.user, tracks=[bookmark["track"] for bookmark in saved])
    return {"bookmarks": {"bookmark": [
        {
            "position": bookmark["position_ms"],
            "username": call.user.get_username(),
            "comment": bookmark["comment"] or None,
            "created": shapes.iso(bookmark["created"]),
            "changed": shapes.iso(bookmark["updated"]),
            "entry": shapes.song(bookmark["track"], marks),
        }
        for bookmark in saved
    ]}}


@method("createBookmark")
def create_bookmark(call: Call) -> dict[str, Any]:
    params = call.params
    bookmarks.bookmark_set(call.user, ids.parse(params.required("id"), ids.TRACK),
                          params.int("position", required=True, minimum=0), params.get("comment") or "")
    return {}


@method("deleteBookmark")
def delete_bookmark(call: Call) -> dict[str, Any]:
    bookmarks.bookmark_delete(call.user, ids.parse(call.params.required("id"), ids.TRACK))
    return {}
