"""Search: search2 (folder forms) and search3 (ID3 forms).

An empty query (also ``""`` and ``*``, which some clients send) lists everything, paged
by each kind's offset and count: that is how apps like Symfonium sync a whole library.
Songs then come in the order they were added (an offset into it costs no sort: at 100,000
tracks, catalogue order took 120-270 ms a page, most of the sync), artists and albums by name.
Counts go up to ``MAX_COUNT``; the shared selectors serve pages of at most 500, so larger
requests are filled from several pages.
"""
from __future__ import annotations

from typing import Any, Callable

from library import selectors

from .. import queries, shapes
from . import Call, method

MAX_COUNT = 5000
KEYS = {"artist": "artists", "album": "albums", "song": "tracks"}


def _collect(fetch: Callable[[int, int], list[dict[str, Any]]], offset: int, count: int) -> list[dict[str, Any]]:
    """``count`` items from ``offset`` on, from pages of at most ``selectors.MAX_LIMIT``."""
    items: list[dict[str, Any]] = []
    while len(items) < count:
        want = min(selectors.MAX_LIMIT, count - len(items))
        page = fetch(offset + len(items), want)
        items += page
        if len(page) < want:
            break
    return items


def _query(raw: str | None) -> str:
    query = (raw or "").strip()
    return "" if query in ('""', "''", "*") else query.strip('"')


def _everything(kind: str, library: int | None) -> Callable[[int, int], list[dict[str, Any]]]:
    if kind == "artist":
        return lambda offset, limit: selectors.artist_list(offset=offset, limit=limit, order="name", library=library)["items"]
    if kind == "album":
        return lambda offset, limit: selectors.album_list(offset=offset, limit=limit, order="name", library=library)["items"]
    return lambda offset, limit: queries.track_page(offset=offset, limit=limit, library=library, order="id")


def _matching(kind: str, query: str, pages: dict, library: int | None) -> Callable[[int, int], list[dict[str, Any]]]:
    """Pages of ``selectors.search`` (which answers all kinds at once: ``pages`` keeps each
    answer, so kinds asked with the same offset and count share one search)."""

    def fetch(offset: int, limit: int) -> list[dict[str, Any]]:
        if (offset, limit) not in pages:
            pages[offset, limit] = selectors.search(query, offset=offset, limit=limit, library=library)
        return pages[offset, limit][KEYS[kind]]["items"]

    return fetch


def _results(call: Call) -> dict[str, list[dict[str, Any]]]:
    params = call.params
    query = _query(params.get("query"))
    library = params.int("musicFolderId")
    found, pages = {}, {}
    for kind in ("artist", "album", "song"):
        count = params.int(f"{kind}Count", 20, minimum=0, maximum=MAX_COUNT)
        offset = params.int(f"{kind}Offset", 0, minimum=0)
        fetch = _matching(kind, query, pages, library) if query else _everything(kind, library)
        found[kind] = _collect(fetch, offset, count) if count else []
    return found


def _marks(call: Call, found: dict[str, list[dict[str, Any]]]) -> shapes.Marks:
    return shapes.marks_for(call.user, tracks=found["song"], albums=found["album"], artists=found["artist"])


@method("search2")
def search2(call: Call) -> dict[str, Any]:
    found = _results(call)
    marks = _marks(call, found)
    return {"searchResult2": {
        "artist": [shapes.artist(artist, marks) for artist in found["artist"]],
        "album": [shapes.album_dir(album, marks) for album in found["album"]],
        "song": [shapes.song(track, marks) for track in found["song"]],
    }}


@method("search3")
def search3(call: Call) -> dict[str, Any]:
    found = _results(call)
    marks = _marks(call, found)
    return {"searchResult3": {
        "artist": [shapes.artist_id3(artist, marks) for artist in found["artist"]],
        "album": [shapes.album_id3(album, marks) for album in found["album"]],
        "song": [shapes.song(track, marks) for track in found["song"]],
    }}
