"""Shares: links that play a fixed list of tracks without an account.

Shape: ``{id, token, description, owner: user ref, created, expires, last_visited,
visit_count, tracks: track dicts in share order}``.

A share is made from tracks, albums and playlists (the caller's own, or public ones): they
are resolved into tracks once, when it is made. Its owner lists, changes and deletes it;
staff see and manage every share. The public side (``share_open``, ``share_track``) knows
only the token: an unknown token is ``NotFound``, an expired share ``Gone``; a track that
is not in the share is ``NotFound`` too, so nothing else is reachable through the link.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone as dt_timezone
from typing import Any, Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.errors import InvalidPayload, NotFound

from ..models import Album, Share, ShareEntry, Track
from ..selectors import _iso, tracks_by_ids
from .playlists import playlist_get
from .shared import MAX_COMMENT, _id, _ids, _text, _user_ref, check_tracks

MAX_TRACKS = 1000
TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters


class Gone(NotFound):
    """The share existed but has expired (HTTP 410 on the public page)."""


def _share(share: Share, tracks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if tracks is None:
        tracks = tracks_by_ids(list(share.entries.order_by("position").values_list("track_id", flat=True)))
    return {
        "id": share.pk,
        "token": share.token,
        "description": share.description,
        "owner": _user_ref(share.owner),
        "created": _iso(share.created),
        "expires": _iso(share.expires),
        "last_visited": _iso(share.last_visited),
        "visit_count": share.visit_count,
        "tracks": tracks,
    }


def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidPayload("expires must be a date and time.")
    return value.replace(tzinfo=dt_timezone.utc) if timezone.is_naive(value) else value


def _resolve(user, track_ids: Iterable[int], album_ids: Iterable[int], playlist_ids: Iterable[int]) -> list[int]:
    """The tracks of these entries in the order given (tracks, then albums, then playlists), once each."""
    chosen: list[int] = []
    wanted = _ids(track_ids)
    check_tracks(wanted)
    chosen += wanted
    for album_id in _ids(album_ids, "album"):
        if not Album.objects.playable().filter(pk=album_id).exists():
            raise NotFound(f"No album with id {album_id}.")
        chosen += list(Track.objects.playable().filter(album_id=album_id).values_list("id", flat=True))
    for playlist_id in _ids(playlist_ids, "playlist"):
        chosen += [track["id"] for track in playlist_get(user, playlist_id)["tracks"]]
    unique = list(dict.fromkeys(chosen))
    if not unique:
        raise InvalidPayload("Share at least one track, album or playlist.")
    if len(unique) > MAX_TRACKS:
        raise InvalidPayload(f"A share holds at most {MAX_TRACKS} tracks.")
    return unique


def _mine(user, share_id: Any) -> Share:
    share = Share.objects.select_related("owner").filter(pk=_id(share_id, "share")).first()
    if share is None or (share.owner_id != user.pk and not user.is_staff):
        raise NotFound(f"No share with id {share_id}.")
    return share


def share_create(user, *, track_ids: Iterable[int] = (), album_ids: Iterable[int] = (),
                 playlist_ids: Iterable[int] = (), description: str = "", expires: datetime | None = None) -> dict[str, Any]:
    """A new share of these entries, with an unguessable token."""
    tracks = _resolve(user, track_ids, album_ids, playlist_ids)
    description = _text(description, "description", MAX_COMMENT)
    expires = _expiry(expires)
    with transaction.atomic():
        share = Share.objects.create(owner=user, token=secrets.token_urlsafe(TOKEN_BYTES), description=description,
                                     expires=expires)
        ShareEntry.objects.bulk_create(ShareEntry(share=share, track_id=pk, position=i) for i, pk in enumerate(tracks))
    return _share(share)


def share_list(user) -> list[dict[str, Any]]:
    """The user's shares (every user's for staff), newest first."""
    shares = Share.objects.select_related("owner").order_by("-created", "-id")
    if not user.is_staff:
        shares = shares.filter(owner=user)
    rows = list(shares)
    entries: dict[int, list[int]] = {}
    for share_id, track_id in ShareEntry.objects.filter(share__in=rows).order_by("share", "position").values_list("share_id", "track_id"):
        entries.setdefault(share_id, []).append(track_id)
    tracks = {track["id"]: track for track in tracks_by_ids(sorted({pk for ids in entries.values() for pk in ids}))}
    return [_share(share, [tracks[pk] for pk in entries.get(share.pk, []) if pk in tracks]) for share in rows]


_UNSET: Any = object()


def share_update(user, share_id: int, *, description: str | None = None, expires: Any = _UNSET) -> dict[str, Any]:
    """A new description and/or expiry (``expires=None``: never)."""
    share = _mine(user, share_id)
    if description is not None:
        share.description = _text(description, "description", MAX_COMMENT)
    if expires is not _UNSET:
        share.expires = _expiry(expires)
    share.save(update_fields=["description", "expires"])
    return _share(share)


def share_delete(user, share_id: int) -> None:
    _mine(user, share_id).delete()


def _live(token: Any) -> Share:
    if not isinstance(token, str) or not token or len(token) > 64:
        raise NotFound("No such share.")
    share = Share.objects.select_related("owner").filter(token=token).first()
    if share is None:
        raise NotFound("No such share.")
    if share.expires is not None and share.expires <= timezone.now():
        raise Gone("This share has expired.")
    return share


def share_open(token: Any) -> dict[str, Any]:
    """The share behind ``token`` for its public page, counting the visit."""
    share = _live(token)
    now = timezone.now()
    Share.objects.filter(pk=share.pk).update(visit_count=F("visit_count") + 1, last_visited=now)
    share.refresh_from_db(fields=["visit_count", "last_visited"])
    return _share(share)


def share_track(token: Any, track_id: Any) -> Track:
    """A track of the share behind ``token`` (with its library, for streaming); nothing else."""
    share = _live(token)
    track_id = _id(track_id, "track")
    track = (Track.objects.playable().select_related("library")
             .filter(Q(pk=track_id) & Q(share_entries__share=share)).first())
    if track is None:
        raise NotFound(f"No track {track_id} in this share.")
    return track
