"""A whole-library Subsonic sync against the bare selectors (``manage.py bench subsonic --tracks N``).

On a throwaway test database (Django's, for the configured engine) it builds a catalogue of
N tracks with ``bulk_create`` (``devtools.bench.api.build``: N/100 artists, N/10 albums, no
files) and a user with a Subsonic password, then syncs the library as apps such as Symfonium
do: ``search3`` with an empty query paged by 500 songs, then albums, then artists, and
``getAlbumList2`` ``alphabeticalByName`` by 500, each in JSON and in XML, through Django's
test ``Client`` (URL routing, the middleware, token sign-in, the method, rendering; no
network). In the same run, and alternating with them page by page so that drift hits both,
it times the bare selector calls that read the same pages (``queries.track_page``,
``selectors.album_list``, ``selectors.artist_list``).

It prints, per kind and format, the pages, total seconds, p50 / p95 per page and the
selector's, with the ratio of the p95s; and the total seconds of each format's whole sync.
Goals: a whole sync (songs, albums, artists and the album list) of 100,000 tracks under
10 s; each page at most 2x its selector.
"""
from __future__ import annotations

import hashlib
import statistics
import time
from typing import Any, Callable

from devtools.stats import percentile

PAGE = 500
KINDS = ("songs", "albums", "artists", "albumList2")


def add_arguments(parser) -> None:
    parser.add_argument("--tracks", type=int, default=100_000, help="catalogue size in tracks (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the catalogue")


def _request(kind: str, offset: int) -> tuple[str, dict[str, Any]]:
    if kind == "albumList2":
        return "getAlbumList2", {"type": "alphabeticalByName", "size": PAGE, "offset": offset}
    counts = {"songCount": 0, "albumCount": 0, "artistCount": 0}
    key = {"songs": "song", "albums": "album", "artists": "artist"}[kind]
    return "search3", {"query": "", **counts, f"{key}Count": PAGE, f"{key}Offset": offset}


def _selector(kind: str) -> Callable[[int], list]:
    from bridge.subsonic import queries
    from library import selectors

    if kind == "songs":
        return lambda offset: queries.track_page(offset=offset, limit=PAGE, order="id")
    if kind == "artists":
        return lambda offset: selectors.artist_list(offset=offset, limit=PAGE, order="name")["items"]
    return lambda offset: selectors.album_list(offset=offset, limit=PAGE, order="name")["items"]


def _items(kind: str, body: bytes, fmt: str) -> int:
    """How many elements a page holds (the sync stops at a short page, as an app does)."""
    tag = {"songs": "song", "albums": "album", "artists": "artist", "albumList2": "album"}[kind]
    if fmt == "json":
        import orjson

        response = orjson.loads(body)["subsonic-response"]
        assert response["status"] == "ok", response
        container = response["albumList2" if kind == "albumList2" else "searchResult3"]
        return len(container.get(tag, []))
    assert b'status="ok"' in body[:400], body[:400]
    return body.count(f"<{tag} ".encode())


def _mark(user, info: dict[str, Any], seed: int) -> str:
    """A listener's marks: stars, ratings and plays on random tracks, albums and artists."""
    import random

    from library.models import Artist
    from library.userdata import favourites, plays, ratings

    rng = random.Random(seed)
    tracks = rng.sample(range(info["tracks"][0], info["tracks"][1] + 1), 1000)
    albums = rng.sample(range(info["albums"][0], info["albums"][1] + 1), 100)
    artists = list(Artist.objects.order_by("?").values_list("id", flat=True)[:20])
    for pk in tracks[:200]:
        favourites.favourite_set(user, "track", pk, True)
    for pk in albums[:50]:
        favourites.favourite_set(user, "album", pk, True)
    for pk in artists:
        favourites.favourite_set(user, "artist", pk, True)
    for pk in tracks[200:500]:
        ratings.rating_set(user, "track", pk, rng.randint(1, 5))
    for pk in albums[50:]:
        ratings.rating_set(user, "album", pk, rng.randint(1, 5))
    for pk in tracks[:1000]:
        plays.play_record(user, pk)
    return "270 stars, 350 ratings and 1000 plays"


def sync(username: str, password: str) -> list[tuple[str, str, int, int, list[float], list[float]]]:
    """The whole sync in JSON then XML, each page followed by its bare selector call:
    ``[(kind, format, pages, items, page seconds, selector seconds)]``."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def call(method: str, params: dict[str, Any], fmt: str) -> bytes:
        salt = hashlib.md5(str(time.perf_counter_ns()).encode()).hexdigest()[:8]
        auth = {"u": username, "s": salt, "t": hashlib.md5((password + salt).encode()).hexdigest(),
                "v": "1.16.1", "c": "bench"}
        response = client.get(f"/rest/{method}.view", {**auth, **params, "f": fmt})
        assert response.status_code == 200
        return response.content

    for fmt in ("json", "xml"):  # warm up: statement caches, the first sign-in
        call("search3", {"query": "", "songCount": 50}, fmt)
    rows = []
    for kind in KINDS:
        selector = _selector(kind)
        for fmt in ("json", "xml"):
            page_times, bare_times = [], []
            offset = 0
            while True:
                method, params = _request(kind, offset)
                started = time.perf_counter()
                body = call(method, params, fmt)
                page_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                selector(offset)
                bare_times.append(time.perf_counter() - started)
                count = _items(kind, body, fmt)
                offset += count
                if count < PAGE:
                    break
            rows.append((kind, fmt, len(page_times), offset, page_times, bare_times))
    return rows


def run(options: dict[str, Any], out) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from bridge.subsonic import credentials
    from devtools.bench.api import build

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        info = build(options["tracks"], options["seed"])
        user = get_user_model().objects.create_user("bench-sync")
        password = credentials.password_reset(user)
        marked = _mark(user, info, options["seed"])
        out.write(f"Subsonic library sync ({connection.vendor}): {info['track_count']} tracks, {info['album_count']} "
                  f"albums, {info['artist_count']} artists (built in {info['seconds']} s); the user has {marked}; "
                  f"pages of {PAGE}, through Django's test Client, alternating with the bare selector for the same page\n")
        rows = sync("bench-sync", password)
        totals = {fmt: sum(sum(row[4]) for row in rows if row[1] == fmt) for fmt in ("json", "xml")}
        out.write(f"{'':11}{'':5}{'pages':>6}{'items':>8}{'total s':>9}{'page p50':>10}{'p95 ms':>8}"
                  f"{'selector p50':>14}{'p95 ms':>8}{'p95 ratio':>11}\n")
        for kind, fmt, pages, items, page_times, bare_times in rows:
            page95, bare95 = percentile(page_times, 95) * 1e3, percentile(bare_times, 95) * 1e3
            ratio = page95 / bare95 if bare95 else float("inf")
            out.write(f"{kind:11}{fmt:5}{pages:6d}{items:8d}{sum(page_times):9.2f}"
                      f"{statistics.median(page_times) * 1e3:10.1f}{page95:8.1f}"
                      f"{statistics.median(bare_times) * 1e3:14.1f}{bare95:8.1f}{ratio:10.2f}x"
                      f"  {'ok' if ratio <= 2 else 'MISSED'}\n")
        for fmt, seconds in totals.items():
            out.write(f"whole sync in {fmt}: {seconds:.2f} s  {'ok' if seconds < 10 else 'MISSED'} (goal < 10 s)\n")
        out.write("goals: a whole sync under 10 s; each page p95 at most 2x its selector's\n")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
