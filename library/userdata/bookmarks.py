"""Bookmarks: a position (and comment) in a track, one per user and track.

Shape: ``{track: track dict, position_ms, comment, created, updated}``.
"""
from __future__ import annotations

from typing import Any

from common.errors import NotFound

from ..models import Bookmark, Track
from ..selectors import _iso, tracks_by_ids
from .shared import MAX_COMMENT, _id, _int, _one_track, _text, _tracks_of

MAX_BOOKMARK_MS = 7 * 24 * 60 * 60 * 1000


def _bookmark(bookmark: Bookmark, track: dict[str, Any]) -> dict[str, Any]:
    return {
        "track": track,
        "position_ms": bookmark.position_ms,
        "comment": bookmark.comment,
        "created": _iso(bookmark.created),
        "updated": _iso(bookmark.updated),
    }


def bookmark_list(user) -> list[dict[str, Any]]:
    """The user's bookmarks, most recently set first."""
    rows = list(Bookmark.objects.filter(user=user).order_by("-updated", "-id"))
    tracks = _tracks_of(rows)
    return [_bookmark(row, tracks[row.track_id]) for row in rows]


def bookmark_set(user, track_id: int, position_ms: int, comment: str = "") -> dict[str, Any]:
    """Create or move the user's bookmark in a track."""
    track = _one_track(_id(track_id, "track"))
    position_ms = _int(position_ms, "position_ms", low=0, high=MAX_BOOKMARK_MS)
    comment = _text(comment, "comment", MAX_COMMENT)
    bookmark, _ = Bookmark.objects.update_or_create(
        user=user, track=track, defaults={"position_ms": position_ms, "comment": comment}
    )
    return _bookmark(bookmark, tracks_by_ids([track.pk])[0])


def bookmark_delete(user, track_id: int) -> None:
    """Remove the user's bookmark in a track (nothing to do when there is none)."""
    track_id = _id(track_id, "track")
    deleted, _ = Bookmark.objects.filter(user=user, track_id=track_id).delete()
    if not deleted and not Track.objects.filter(pk=track_id).exists():
        raise NotFound(f"No track with id {track_id}.")
