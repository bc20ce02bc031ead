"""The public side of shares: ``/share/<token>`` plays the shared tracks without an account.

The page lists the tracks and plays them in an ``<audio>`` element from
``/share/<token>/stream/<track id>``; covers come from ``/share/<token>/cover/<track id>``.
Both serve a track only if it is in that share (``library.userdata.shares.share_track``),
so nothing else is reachable through the link. An unknown token answers 404, an expired
share 410. Each page view counts as a visit. Every request counts against
``SHARE_RATE`` per client address (429 with ``Retry-After`` beyond it).
"""
from __future__ import annotations

import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from common.bounds import parse_int
from common.errors import NotFound
from library.userdata import shares

from .clientaddr import client_address
from .files import cover_response, stream_file, track_cover

RATE_KEY = "share-rate:{address}:{window}"


def _limited(request) -> HttpResponse | None:
    """The 429 answer once this address has used up its share requests for the window."""
    window = settings.SHARE_RATE_WINDOW
    slot = int(time.time() // window)
    key = RATE_KEY.format(address=client_address(request), window=slot)
    cache.add(key, 0, timeout=window + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        used = 1
    if used <= settings.SHARE_RATE_LIMIT:
        return None
    retry = max(1, math.ceil((slot + 1) * window - time.time()))
    return HttpResponse("Too many requests: try again later.\n", status=429, content_type="text/plain",
                        headers={"Retry-After": str(retry)})


def _public(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        refused = _limited(request)
        if refused is not None:
            return refused
        try:
            return view(request, *args, **kwargs)
        except shares.Gone:
            return render(request, "share_gone.html", status=410)
        except NotFound:
            return HttpResponse("Not found.\n", status=404, content_type="text/plain")

    return require_safe(wrapped)


def _track_id(value: str) -> int:
    number = parse_int(value, minimum=1)
    if number is None:
        raise NotFound("No such track.")
    return number


@_public
def share_page(request, token: str):
    share = shares.share_open(token)
    tracks = [
        {"id": track["id"], "title": track["title"], "artist": track["artist"] or track["album_artist"]["name"],
         "album": track["album"]["title"], "duration_ms": track.get("duration_ms") or 0,
         "cover": track.get("cover") is not None}
        for track in share["tracks"]
    ]
    return render(request, "share.html", {"share": share, "tracks": tracks, "token": token})


@_public
def share_stream(request, token: str, track: str):
    return stream_file(request, shares.share_track(token, _track_id(track)))


@_public
def share_cover(request, token: str, track: str):
    found = shares.share_track(token, _track_id(track))
    size = parse_int(request.GET.get("size") or "", minimum=1, maximum=100_000)
    return cover_response(request, track_cover(found.pk), size)
