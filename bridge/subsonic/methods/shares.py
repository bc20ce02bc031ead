"""Shares: getShares, createShare, updateShare, deleteShare (``library.userdata.shares``).

``createShare`` takes ids of songs, albums and playlists (``tr-``, ``al-``, ``pl-``; a bare
number is a song) and an optional ``expires`` (milliseconds since 1970); ``updateShare``
changes the description and expiry (``expires=0``: never). A share's ``url`` is its public
page, ``/share/<token>``, which plays exactly the shared songs without an account. Owners
see and change their own shares; staff see and change every share.
"""
from __future__ import annotations

import datetime
from typing import Any

from common.bounds import parse_int
from library.userdata import shares

from .. import ids, shapes
from ..responses import InvalidParameter, NotFoundError
from . import Call, method

MAX_EXPIRES_MS = 253402300799000  # 9999-12-31T23:59:59Z


def share_element(call: Call, share: dict[str, Any]) -> dict[str, Any]:
    marks = shapes.marks_for(call.user, tracks=share["tracks"])
    return {
        "id": str(share["id"]),
        "url": call.http.build_absolute_uri(f"/share/{share['token']}"),
        "description": share["description"] or None,
        "username": share["owner"]["username"],
        "created": shapes.iso(share["created"]),
        "expires": shapes.iso(share["expires"]),
        "lastVisited": shapes.iso(share["last_visited"]),
        "visitCount": share["visit_count"],
        "entry": [shapes.song(track, marks) for track in share["tracks"]],
    }


def _expires(call: Call) -> datetime.datetime | None:
    millis = call.params.int("expires", 0, minimum=0)
    if millis > MAX_EXPIRES_MS:
        raise InvalidParameter("expires", "must be a time in milliseconds since 1970 before the year 10000.")
    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc) if millis else None


def _number(value: str) -> int:
    """A share id: a plain number (``common.bounds``); anything else names no share."""
    number = parse_int(value.strip(), minimum=1)
    if number is None:
        raise NotFoundError(f"No share {value[:60]!r}.")
    return number


@method("getShares")
def get_shares(call: Call) -> dict[str, Any]:
    return {"shares": {"share": [share_element(call, share) for share in shares.share_list(call.user)]}}


@method("createShare")
def create_share(call: Call) -> dict[str, Any]:
    wanted: dict[str, list[int]] = {ids.TRACK: [], ids.ALBUM: [], ids.PLAYLIST: []}
    for value in call.params.getlist("id"):
        kind, pk = ids.parse_any(value, default=ids.TRACK)
        if kind not in wanted:
            raise InvalidParameter("id", f"names a {ids.KINDS[kind]}; share songs, albums or playlists.")
        wanted[kind].append(pk)
    if not any(wanted.values()):
        call.params.required("id")
    made = shares.share_create(call.user, track_ids=wanted[ids.TRACK], album_ids=wanted[ids.ALBUM],
                               playlist_ids=wanted[ids.PLAYLIST], description=call.params.get("description") or "",
                               expires=_expires(call))
    return {"shares": {"share": [share_element(call, made)]}}


@method("updateShare")
def update_share(call: Call) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if call.params.get("description") is not None:
        changes["description"] = call.params.get("description")
    if "expires" in call.params:
        changes["expires"] = _expires(call)
    shares.share_update(call.user, _number(call.params.required("id")), **changes)
    return {}


@method("deleteShare")
def delete_share(call: Call) -> dict[str, Any]:
    shares.share_delete(call.user, _number(call.params.required("id")))
    return {}
