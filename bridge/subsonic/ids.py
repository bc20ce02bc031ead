"""Subsonic ids: strings with a kind prefix, so one parameter can name any kind.

``ar-<artist id>``, ``al-<album id>``, ``tr-<track id>``, ``pl-<playlist id>``, and for
cover art also ``co-<cover art id>`` (what ``coverArt`` attributes carry: the same
image has the same id everywhere, so clients cache it once). Music folders are library
ids, as plain numbers.

Parameters that can only name one kind (``getSong``'s ``id``, ``stream``'s ``id``, ...)
also accept a bare number; parameters that name any kind (``getMusicDirectory``,
``star``'s ``id``) need the prefix, and read a bare number as a track. The number is ASCII
digits from 1 to 2**53 - 1 (``common.bounds``); anything else names nothing (error 70).
"""
from __future__ import annotations

from common.bounds import parse_int

from .responses import NotFoundError

ARTIST, ALBUM, TRACK, PLAYLIST, COVER = "ar", "al", "tr", "pl", "co"
KINDS = {ARTIST: "artist", ALBUM: "album", TRACK: "track", PLAYLIST: "playlist", COVER: "cover"}


def make(kind: str, pk: int | None) -> str | None:
    return None if pk is None else f"{kind}-{pk}"


def artist(pk):
    return make(ARTIST, pk)


def album(pk):
    return make(ALBUM, pk)


def track(pk):
    return make(TRACK, pk)


def playlist(pk):
    return make(PLAYLIST, pk)


def cover(pk):
    return make(COVER, pk)


def parse_any(value: str, default: str | None = TRACK) -> tuple[str, int]:
    """``(kind prefix, number)`` of an id; a bare number is of kind ``default``."""
    text = (value or "").strip()
    prefix, dash, number = text.partition("-")
    if not dash:
        prefix, number = default, text
    pk = parse_int(number, minimum=1) if prefix in KINDS and not number.startswith("-") else None
    if pk is None:
        raise NotFoundError(f"No such id: {value[:60]!r}.")
    return prefix, pk


def parse(value: str, kind: str) -> int:
    """The number of an id that must be of ``kind`` (prefixed or bare)."""
    prefix, number = parse_any(value, default=kind)
    if prefix != kind:
        raise NotFoundError(f"{value[:60]!r} is not a {KINDS[kind]} id.")
    return number
