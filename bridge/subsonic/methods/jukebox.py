"""jukeboxControl as a remote control of one of the user's live devices.

The server plays nothing itself: the app drives a device player (a ``player`` tracker)
through the same tracker actions the browser sends (``tracker.services.act``), so the
device plays and every browser watching it sees the change live.

Which device: the ``device`` parameter (an extension; a device name or tracker id among
the players the user owns or controls), else the user's live device seen most recently. A
device is live while a browser has it open (``bridge.presence``); Subsonic apps' own
devices never are, so by default the app drives a browser. No live device: error 70.

Actions: ``get`` (jukeboxPlaylist), ``status``, ``set`` (replace the queue with ``id``s; the
playing track goes on if the new list holds it),
``start``, ``stop`` (pause), ``skip`` (``index``, ``offset`` in seconds), ``add``,
``clear``, ``remove`` (``index``), ``shuffle`` (the queue reordered at random, the current
entry first) and ``setGain`` (``gain`` 0..1 as the device's volume); all but ``get``
answer jukeboxStatus.
"""
from __future__ import annotations

import random
from typing import Any

from asgiref.sync import async_to_sync

from bridge import presence
from tracker import services as trackers
from tracker import store
from tracker.reducers.playback import live_position
from tracker.schemas import MAX_POSITION_MS

from .. import ids, queries, shapes
from ..responses import InvalidParameter, NotFoundError
from . import Call, method

ACTIONS = ("get", "status", "set", "start", "stop", "skip", "add", "clear", "remove", "shuffle", "setGain")


def _live_device(call: Call) -> dict[str, Any]:
    """The player the app drives (see the module's docstring)."""
    players = trackers.list_trackers(call.context, trackers.PLAYER)
    wanted = (call.params.get("device") or "").strip()
    if wanted:
        for player in players:
            if wanted in (player["tracker"], player["state"].get("device")):
                return player
        raise NotFoundError(f"No device {wanted[:60]!r} among yours.")
    status = async_to_sync(presence.get_store().status)([player["tracker"] for player in players])
    live = [player for player in players if status.get(player["tracker"], (0, None))[0] > 0]
    if not live:
        raise NotFoundError("No live device to control: open the web player on a device first.")
    return max(live, key=lambda player: (player["mine"], status[player["tracker"]][1] or 0))


def _act(call: Call, device: dict[str, Any], name: str, payload: dict[str, Any]) -> dict[str, Any]:
    payload = store.validate_action_payload(name, payload)
    trackers.act(call.context, device["tracker"], name, payload)
    return trackers.get_state(call.context, device["tracker"])


def _tracks(call: Call) -> list[int]:
    track_ids = [ids.parse(value, ids.TRACK) for value in call.params.getlist("id")]
    if not track_ids:
        call.params.required("id")
    return track_ids


def _index(call: Call, state: dict[str, Any]) -> int:
    index = call.params.int("index", required=True)
    if not 0 <= index < len(state["queue"]):
        raise InvalidParameter("index", f"must be from 0 to {len(state['queue']) - 1}, got {index}.")
    return index


def _status(state: dict[str, Any]) -> dict[str, Any]:
    """The level is ``gain`` (a float in [0, 1], required by the Subsonic XSD and read by
    clients). OpenSubsonic's JSON schema requires ``volume`` too, typed as an integer within
    [0, 1] (the XSD: an optional long), so it can only say sound (1) or silence (0)."""
    volume = state.get("volume", 100)
    return {
        "currentIndex": state["index"] if state["index"] is not None else -1,
        "playing": bool(state["playing"]),
        "gain": round(volume / 100, 2),
        "volume": 1 if volume > 0 else 0,
        "position": live_position(state, store.now_ms()) // 1000,
    }


@method("jukeboxControl")
def jukebox_control(call: Call) -> dict[str, Any]:
    action = call.params.required("action")
    if action not in ACTIONS:
        raise InvalidParameter("action", f"must be one of {', '.join(ACTIONS)}, got {action[:40]!r}.")
    device = _live_device(call)
    state = device["state"]
    if action == "get":
        tracks = queries.tracks_by_ids(state["queue"])
        marks = shapes.marks_for(call.user, tracks=tracks)
        return {"jukeboxPlaylist": {**_status(state), "entry": [shapes.song(track, marks) for track in tracks]}}
    if action == "set":
        track_ids = [ids.parse(value, ids.TRACK) for value in call.params.getlist("id")]
        if track_ids:
            # As Subsonic's set: the playing track goes on where it was when the new list holds it.
            current = state["queue"][state["index"]] if state["queue"] else None
            keep = current in track_ids
            payload = {"tracks": track_ids, "index": track_ids.index(current) if keep else 0,
                       "position_ms": live_position(state, store.now_ms()) if keep else 0, "play": bool(state["playing"])}
            state = _act(call, device, "player.queue.replace", payload)["state"]
        elif state["queue"]:
            state = _act(call, device, "player.queue.clear", {})["state"]
    elif action == "start" and state["queue"]:
        state = _act(call, device, "player.playback.play", {})["state"]
    elif action == "stop" and state["playing"]:
        state = _act(call, device, "player.playback.pause", {})["state"]
    elif action == "skip":
        index = _index(call, state)
        offset = call.params.int("offset", 0, minimum=0, maximum=MAX_POSITION_MS // 1000)
        state = _act(call, device, "player.playback.play", {"index": index, "position_ms": offset * 1000})["state"]
    elif action == "add":
        state = _act(call, device, "player.queue.append", {"tracks": _tracks(call)})["state"]
    elif action == "clear" and state["queue"]:
        state = _act(call, device, "player.queue.clear", {})["state"]
    elif action == "remove":
        state = _act(call, device, "player.queue.remove", {"index": _index(call, state)})["state"]
    elif action == "shuffle" and len(state["queue"]) > 1:
        current = state["queue"][state["index"]]
        rest = state["queue"][:state["index"]] + state["queue"][state["index"] + 1:]
        random.shuffle(rest)
        payload = {"tracks": [current, *rest], "index": 0, "position_ms": live_position(state, store.now_ms()),
                   "play": bool(state["playing"])}
        state = _act(call, device, "player.queue.replace", payload)["state"]
    elif action == "setGain":
        gain = call.params.get("gain")
        try:
            volume = round(float(gain) * 100)
        except (TypeError, ValueError, OverflowError):
            raise InvalidParameter("gain", f"must be a number from 0.0 to 1.0, got {str(gain)[:40]!r}.") from None
        if not 0 <= volume <= 100:
            raise InvalidParameter("gain", f"must be from 0.0 to 1.0, got {gain[:40]!r}.")
        state = _act(call, device, "player.volume.set", {"volume": volume})["state"]
    return {"jukeboxStatus": _status(state)}
