"""REST API latency against the bare selectors (``manage.py bench api --tracks N``).

For SQLite and, with ``--postgres URL`` (default: ``DATABASE_URL`` when it names
PostgreSQL), for PostgreSQL, each on a fresh throwaway database (``devtools.deploy``), it:

1. builds a catalogue of N tracks directly in the database with ``bulk_create`` (N/100
   artists, N/10 albums, 40 genres; sort and search keys from ``library.text``; the search
   index fills itself: SQLite's FTS5 triggers, PostgreSQL's full-text GIN indexes);
2. times the bare selector calls (``library.selectors``) in one process on that database,
   and the same requests through Django's test ``Client`` in that process (the framework's
   cost without a network);
3. starts a real ``daphne`` server on it (the embedded mode, as ``manage.py serve`` runs)
   and sends the same requests over HTTP/1.1 keep-alive with a token, one at a time;

then prints p50 / p95 for album list (by name; random, a seeded shuffle; by artist,
descending), album detail, search and track detail, the ratio
of HTTP to the bare selector and what HTTP adds to it, and the same server's time for a
request that runs no view and no query (an unknown URL's 404): the fixed cost of daphne,
the hand-off to a request thread and Django's middleware, which every operation pays.
Goals: p95 < 20 ms over HTTP, and HTTP <= 2x the selector. Every request is different
(random offsets, ids and search prefixes from one seed), and both sides get the same
sequence.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from devtools import deploy
from devtools.stats import percentile

OPERATIONS = ("album list", "albums random", "albums artist", "album detail", "search", "track detail")
SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sil", "an", "dor", "el", "fin", "gar", "hol", "is", "jun",
             "kel", "lum", "mar", "nor", "ost", "pel", "qui", "ros", "sta", "tur", "ul", "vel", "wyn", "xan", "yor",
             "zel", "bri", "cor", "dra", "es", "fal", "gry", "hen", "ith", "jor")
GENRES = 40


def add_arguments(parser) -> None:
    default_pg = os.environ.get("DATABASE_URL", "")
    parser.add_argument("--tracks", type=int, default=100_000, help="catalogue size in tracks (default 100000)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per operation (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the catalogue and the requests")
    parser.add_argument("--postgres", default=default_pg if default_pg.startswith(("postgres://", "postgresql://")) else "",
                        help="PostgreSQL server URL to make a throwaway database on (default: DATABASE_URL if PostgreSQL)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="run the server with this CONN_MAX_AGE (persistent database connections) instead of "
                             "the configured one, to see what reconnecting per request costs")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate in-process and HTTP measurement this many times (default 3)")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)


# -- the catalogue --------------------------------------------------------------------------------


def vocabulary(seed: int) -> list[str]:
    """Made-up words (2-3 syllables): realistic prefix overlaps for the search."""
    rng = random.Random(seed)
    words = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) for _ in range(3000)}
    return sorted(words)


def build(tracks: int, seed: int) -> dict[str, Any]:
    """Fill the (empty, migrated) database; returns what the request plan needs."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from library.models import Album, Artist, Genre, Library, Track
    from library.text import search_key, sort_key

    rng = random.Random(seed)
    words = vocabulary(seed)

    def phrase(low: int, high: int) -> str:
        return " ".join(rng.choice(words).capitalize() for _ in range(rng.randint(low, high)))

    n_artists, n_albums = max(1, tracks // 100), max(1, tracks // 10)
    started = time.perf_counter()
    with transaction.atomic():
        library = Library.objects.create(name="bench", root=f"/srv/bench-{uuid.uuid4().hex[:8]}", scan_interval=0)
        genres = Genre.objects.bulk_create([Genre(name=f"{phrase(1, 1)} {i}") for i in range(GENRES)])
        names: set[str] = set()
        while len(names) < n_artists:
            names.add(phrase(1, 3))
        artists = Artist.objects.bulk_create(
            [Artist(name=name, sort_name=sort_key(name), search_key=search_key(name)) for name in sorted(names)],
            batch_size=2000)
        albums, seen = [], set()
        for i in range(n_albums):
            artist = artists[i % n_artists] if i < n_artists else rng.choice(artists)
            title = phrase(1, 3)
            while (artist.pk, title) in seen:
                title += " II"
            seen.add((artist.pk, title))
            albums.append(Album(title=title, sort_title=sort_key(title), album_artist=artist,
                                year=None if rng.random() < 0.05 else rng.randint(1960, 2024),
                                search_key=search_key(title, artist.name)))
        albums = Album.objects.bulk_create(albums, batch_size=2000)
        album_genre = {album.pk: rng.choice(genres).pk for album in albums}
        Album.genres.through.objects.bulk_create(
            [Album.genres.through(album_id=pk, genre_id=genre) for pk, genre in album_genre.items()], batch_size=5000)
        per_album = [tracks // n_albums + (1 if i < tracks % n_albums else 0) for i in range(n_albums)]
        chunk: list[tuple[Track, list]] = []
        for album, count in zip(albums, per_album):
            durations = [rng.randint(90_000, 420_000) for _ in range(count)]
            album.track_count, album.duration_ms = count, sum(durations)
            for number, duration in enumerate(durations, 1):
                people = [album.album_artist] + ([rng.choice(artists)] if rng.random() < 0.1 else [])
                people = list(dict.fromkeys(people))
                display = ", ".join(a.name for a in people)
                title = phrase(1, 4)
                chunk.append((Track(
                    library=library, path=f"{album.pk}/{number:03d} {title}.flac", size=20_000_000, mtime_ns=number,
                    fingerprint=f"{album.pk}-{number}", format="flac", codec="flac", duration_ms=duration,
                    bitrate=900_000, sample_rate=44_100, channels=2, title=title, sort_title=sort_key(title),
                    artist_display=display, album=album, track_number=number, track_total=count, disc_number=1,
                    disc_total=1, year=album.year, search_key=search_key(title, display)), people))
            if len(chunk) >= 5000:
                _write_tracks(chunk, album_genre)
                chunk = []
        _write_tracks(chunk, album_genre)
        Album.objects.bulk_update(albums, ["track_count", "duration_ms"], batch_size=2000)
        user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:6]}")
        token = Token.objects.create(user=user).key
    _analyze()
    return {"token": token, "seconds": round(time.perf_counter() - started, 1), **catalogue_info()}


def _write_tracks(chunk: list, album_genre: dict[int, int]) -> None:
    """Tracks, their artist links and genres (their album's) in bulk."""
    from library.models import Track, TrackArtist

    if not chunk:
        return
    made = Track.objects.bulk_create([track for track, _ in chunk], batch_size=2000)
    Track.genres.through.objects.bulk_create(
        [Track.genres.through(track_id=track.pk, genre_id=album_genre[track.album_id]) for track in made], batch_size=5000)
    TrackArtist.objects.bulk_create(
        [TrackArtist(track_id=track.pk, artist_id=artist.pk, position=position)
         for track, (_, people) in zip(made, chunk) for position, artist in enumerate(people)], batch_size=5000)


def _analyze() -> None:
    """Planner statistics and (PostgreSQL) the visibility map, as a live database has them
    (autovacuum, ``PRAGMA optimize``), not a freshly bulk-loaded one: without the visibility
    map PostgreSQL will not use index-only scans, and sorts whole tables instead."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def catalogue_info() -> dict[str, Any]:
    from django.db.models import Max, Min

    from library.models import Album, Artist, Track

    albums = Album.objects.aggregate(lo=Min("id"), hi=Max("id"))
    tracks = Track.objects.aggregate(lo=Min("id"), hi=Max("id"))
    return {"albums": [albums["lo"], albums["hi"]], "tracks": [tracks["lo"], tracks["hi"]],
            "album_count": Album.objects.count(), "track_count": Track.objects.count(),
            "artist_count": Artist.objects.count()}


# -- the requests -------------------------------------------------------------------------------


def plan(info: dict[str, Any], requests: int, seed: int) -> dict[str, list[tuple[tuple[str, Any], str]]]:
    """Per operation: ``((selector name, argument), URL)`` pairs, warm-up first; the same on every side for one seed."""
    rng = random.Random(seed * 7919)
    words = vocabulary(seed)
    total = max(1, info["album_count"] - 50)
    ops: dict[str, list] = {op: [] for op in OPERATIONS}
    for _ in range(requests + WARMUP):
        offset = rng.randrange(total)
        ops["album list"].append((("album_list", {"offset": offset, "limit": 50}), f"/api/v1/albums/?offset={offset}&limit=50"))
        shuffle = rng.randint(1, 2**31 - 2)  # a random order's page, deep in its shuffle
        ops["albums random"].append((("album_list", {"order": "random", "seed": shuffle, "offset": offset, "limit": 50}),
                                     f"/api/v1/albums/?order=random&seed={shuffle}&offset={offset}&limit=50"))
        ops["albums artist"].append((("album_list", {"order": "artist", "descending": True, "offset": offset, "limit": 50}),
                                     f"/api/v1/albums/?order=artist&descending=true&offset={offset}&limit=50"))
        album = rng.randint(*info["albums"])
        ops["album detail"].append((("album_get", album), f"/api/v1/albums/{album}/"))
        query = rng.choice(words)[:rng.randint(3, 5)]
        if rng.random() < 0.3:
            query += " " + rng.choice(words)[:3]
        ops["search"].append((("search", query), "/api/v1/search/?" + urlencode({"q": query})))
        track = rng.randint(*info["tracks"])
        ops["track detail"].append((("track_get", track), f"/api/v1/tracks/{track}/"))
    return ops


WARMUP = 30


def call_selector(spec) -> Any:
    from library import selectors

    name, argument = spec
    function = getattr(selectors, name)
    return function(**argument) if isinstance(argument, dict) else function(argument)


def _timed(calls, fn) -> list[float]:
    times = []
    for index, call in enumerate(calls):
        started = time.perf_counter()
        fn(call)
        elapsed = (time.perf_counter() - started) * 1000
        if index >= WARMUP:
            times.append(elapsed)
    return times


def _round(calls: list, part: int, parts: int) -> list:
    """The warm-up calls, then every ``parts``-th timed call from ``part``: rounds alternate between
    the in-process and the HTTP measurement, so a change in the machine's load hits both alike."""
    return calls[:WARMUP] + calls[WARMUP:][part::parts]


def measure_in_process(info: dict[str, Any], requests: int, seed: int, part: int = 0,
                       parts: int = 1) -> dict[str, dict[str, list[float]]]:
    """Bare selector calls, then the same requests through Django's test Client (no network; the
    test Client keeps the database connection across requests)."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {info['token']}", HTTP_HOST="127.0.0.1")

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    results = {}
    for op, calls in plan(info, requests, seed).items():
        calls = _round(calls, part, parts)
        results[op] = {
            "selector": _timed([spec for spec, _ in calls], call_selector),
            "client": _timed([url for _, url in calls], get),
        }
    return results


# A request that runs no view and no query: the fixed cost of the server, Django's middleware
# and URL resolution that every operation pays (its answer is a 404).
FLOOR = "no view (404)"
FLOOR_URL = "/api/v1/no-such-endpoint/"


def measure_http(port: int, info: dict[str, Any], requests: int, seed: int, part: int = 0,
                 parts: int = 1) -> dict[str, list[float]]:
    """The same requests over HTTP to a real server, one connection, keep-alive; and as many
    requests for ``FLOOR_URL``, under ``FLOOR``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {info['token']}", "Accept": "application/json"}

    def get(url, status=200):
        connection.request("GET", url, headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == status, (url, response.status, body[:200])

    results = {op: _timed([url for _, url in _round(calls, part, parts)], get)
               for op, calls in plan(info, requests, seed).items()}
    results[FLOOR] = _timed([FLOOR_URL] * (WARMUP + len(results[OPERATIONS[0]])), lambda url: get(url, 404))
    connection.close()
    return results


# -- the command --------------------------------------------------------------------------------


def _postgres(url: str):
    return deploy.postgres_deployment(url, label="PostgreSQL (embedded mode: in-memory layer, inline worker)",
                                      prefix="bench-api-", db_prefix="bench_api_")


def _sqlite():
    return deploy.sqlite_deployment("SQLite (embedded mode)", prefix="bench-api-")


def _persistent_connections(deployment, seconds: int) -> None:
    """Point the deployment at a settings module that keeps database connections open."""
    folder = os.path.join(deployment.env["DATA_DIR"], "settings_override")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "bench_api_settings.py"), "w") as handle:
        handle.write("from mediaproject.settings import *  # noqa\n"
                     f"DATABASES['default']['CONN_MAX_AGE'] = {seconds}\n"
                     "DATABASES['default']['CONN_HEALTH_CHECKS'] = True\n")
    deployment.env["PYTHONPATH"] = os.pathsep.join(filter(None, [folder, deployment.env.get("PYTHONPATH", "")]))
    deployment.env["DJANGO_SETTINGS_MODULE"] = "bench_api_settings"


def _json_tail(text: str) -> Any:
    return json.loads(text.strip().splitlines()[-1])


def run(options: dict[str, Any], out) -> None:
    if options["build"]:
        out.write(json.dumps(build(options["tracks"], options["seed"])))
        return
    if options["measure"]:
        info = json.loads(options["measure"])
        out.write(json.dumps(measure_in_process(info, options["requests"], options["seed"], options["part"],
                                                options["rounds"])))
        return

    makers = [] if options["no_sqlite"] else [_sqlite]
    if options["postgres"]:
        makers.append(lambda: _postgres(options["postgres"]))
    else:
        out.write("PostgreSQL: not measured (give --postgres URL, or DATABASE_URL naming PostgreSQL)\n")
    requests, seed = options["requests"], options["seed"]
    for make in makers:
        deployment = make()
        try:
            deployment.manage("migrate", "--noinput")
            info = _json_tail(deployment.manage("bench", "api", "--build", "--tracks", str(options["tracks"]),
                                                "--seed", str(seed)))
            out.write(f"\n== {deployment.label}: {info['track_count']} tracks, {info['album_count']} albums, "
                      f"{info['artist_count']} artists (built in {info['seconds']} s); {requests} requests per "
                      f"operation, one at a time, in {options['rounds']} alternating rounds after {WARMUP} warm-up each\n")
            if options["conn_max_age"] is not None:
                _persistent_connections(deployment, options["conn_max_age"])
                out.write(f"the HTTP server runs with CONN_MAX_AGE={options['conn_max_age']} (persistent connections)\n")
            port = deployment.start_servers(bridges=1)[0]
            rounds = max(1, options["rounds"])
            local = {op: {"selector": [], "client": []} for op in OPERATIONS}
            over_http: dict[str, list[float]] = {op: [] for op in (*OPERATIONS, FLOOR)}
            for part in range(rounds):
                measured = _json_tail(deployment.manage(
                    "bench", "api", "--measure", json.dumps(info), "--requests", str(requests), "--seed", str(seed),
                    "--part", str(part), "--rounds", str(rounds)))
                timed = measure_http(port, info, requests, seed, part, rounds)
                for op in OPERATIONS:
                    local[op]["selector"] += measured[op]["selector"]
                    local[op]["client"] += measured[op]["client"]
                for op in over_http:
                    over_http[op] += timed[op]
            out.write(f"{'':14}{'bare selector':>20}{'Django test Client':>24}{'HTTP (daphne)':>20}"
                      f"{'HTTP / selector':>20}{'HTTP adds':>12}\n")
            out.write(f"{'':14}{'p50    p95 ms':>20}{'p50    p95 ms':>24}{'p50    p95 ms':>20}{'p50   p95':>20}"
                      f"{'p50 ms':>12}\n")
            for op in OPERATIONS:
                bare, client, http_ = local[op]["selector"], local[op]["client"], over_http[op]
                row = [(statistics.median(x), percentile(x, 95)) for x in (bare, client, http_)]
                ratio = (row[2][0] / row[0][0], row[2][1] / row[0][1])
                goal = "ok" if row[2][1] < 20 and ratio[1] <= 2 else "MISSED"
                out.write(f"{op:14}{row[0][0]:12.2f}{row[0][1]:8.2f}{row[1][0]:16.2f}{row[1][1]:8.2f}"
                          f"{row[2][0]:12.2f}{row[2][1]:8.2f}{ratio[0]:12.2f}x{ratio[1]:6.2f}x"
                          f"{row[2][0] - row[0][0]:11.2f}   {goal}\n")
            floor = over_http[FLOOR]
            out.write(f"{FLOOR:14}{'':44}{statistics.median(floor):12.2f}{percentile(floor, 95):8.2f}"
                      f"   (no query: the server's fixed cost)\n")
            out.write("goals: HTTP p95 < 20 ms, HTTP <= 2x the bare selector\n")
        finally:
            deployment.close()
