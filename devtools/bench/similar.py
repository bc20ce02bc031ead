"""Similar artists, similar songs and top songs (``library.similar``) against getArtist's
selector (``manage.py bench similar --tracks N``).

On a fresh throwaway SQLite database (and PostgreSQL with ``--postgres URL``, default
``DATABASE_URL`` when it names PostgreSQL), it builds the catalogue of ``bench api`` (N
tracks, N/100 artists, N/10 albums, 40 genres), adds ``--users`` listeners with ``--plays``
plays each (random tracks, one seed), then times, for the same random album artists:
``selectors.artist_get`` (what getArtist costs: the baseline), ``similar_artists`` (20),
``similar_track_ids`` (50) and ``top_track_ids`` (50), and prints p50 / p95 and the ratio
to the baseline, which is what getArtistInfo, getSimilarSongs and getTopSongs add to an
artist page.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import time
from typing import Any

from devtools.stats import percentile

from . import api

OPERATIONS = ("artist_get (baseline)", "similar_artists", "similar_track_ids", "top_track_ids")
WARMUP = 5


def add_arguments(parser) -> None:
    default_pg = os.environ.get("DATABASE_URL", "")
    parser.add_argument("--tracks", type=int, default=100_000, help="catalogue size in tracks (default 100000)")
    parser.add_argument("--users", type=int, default=50, help="listeners (default 50)")
    parser.add_argument("--plays", type=int, default=2000, help="plays per listener (default 2000)")
    parser.add_argument("--requests", type=int, default=60, help="timed calls per operation (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=default_pg if default_pg.startswith(("postgres://", "postgresql://")) else "",
                        help="PostgreSQL server URL to make a throwaway database on (default: DATABASE_URL if PostgreSQL)")
    parser.add_argument("--measure", action="store_true", help="(internal) add plays and measure in this process")


def add_plays(users: int, plays: int, seed: int) -> None:
    from datetime import datetime, timedelta, timezone

    from django.contrib.auth import get_user_model

    from library.models import Play, Track

    rng = random.Random(seed)
    track_ids = list(Track.objects.values_list("id", flat=True))
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for n in range(users):
        user = get_user_model().objects.create_user(f"listener{n}", password=None)
        Play.objects.bulk_create(
            (Play(user=user, track_id=rng.choice(track_ids), played_at=start + timedelta(minutes=i)) for i in range(plays)),
            batch_size=2000,
        )


def measure(requests: int, seed: int) -> dict[str, list[float]]:
    from library import selectors, similar
    from library.models import Artist

    rng = random.Random(seed + 1)
    artists = list(Artist.objects.filter(albums__isnull=False).distinct().values_list("id", "name"))
    chosen = [rng.choice(artists) for _ in range(WARMUP + requests)]
    calls = {
        OPERATIONS[0]: lambda a: selectors.artist_get(a[0]),
        OPERATIONS[1]: lambda a: similar.similar_artists(a[0], 20),
        OPERATIONS[2]: lambda a: similar.similar_track_ids(a[0], 50, seed=seed),
        OPERATIONS[3]: lambda a: similar.top_track_ids(a[1], 50),
    }
    results: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    for index, artist in enumerate(chosen):  # interleaved: the machine's load hits every operation alike
        for op, call in calls.items():
            started = time.perf_counter()
            call(artist)
            if index >= WARMUP:
                results[op].append((time.perf_counter() - started) * 1000)
    return results


def run(options: dict[str, Any], out) -> None:
    if options["measure"]:
        add_plays(options["users"], options["plays"], options["seed"])
        out.write(json.dumps(measure(options["requests"], options["seed"])))
        return
    makers = [api._sqlite]
    if options["postgres"]:
        makers.append(lambda: api._postgres(options["postgres"]))
    else:
        out.write("PostgreSQL: not measured (give --postgres URL, or DATABASE_URL naming PostgreSQL)\n")
    for make in makers:
        deployment = make()
        try:
            deployment.manage("migrate", "--noinput")
            info = api._json_tail(deployment.manage("bench", "api", "--build", "--tracks", str(options["tracks"]),
                                                    "--seed", str(options["seed"])))
            timed = api._json_tail(deployment.manage(
                "bench", "similar", "--measure", "--users", str(options["users"]), "--plays", str(options["plays"]),
                "--requests", str(options["requests"]), "--seed", str(options["seed"])))
            out.write(f"\n== {deployment.label}: {info['track_count']} tracks, {info['artist_count']} artists, "
                      f"{options['users']} listeners x {options['plays']} plays; {options['requests']} random album "
                      f"artists after {WARMUP} warm-up\n")
            out.write(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}{'p50 / base':>12}{'p95 / base':>12}\n")
            base = timed[OPERATIONS[0]]
            base_p50, base_p95 = statistics.median(base), percentile(base, 95)
            for op in OPERATIONS:
                p50, p95 = statistics.median(timed[op]), percentile(timed[op], 95)
                out.write(f"{op:24}{p50:10.2f}{p95:10.2f}{p50 / base_p50:11.2f}x{p95 / base_p95:11.2f}x\n")
        finally:
            deployment.close()
