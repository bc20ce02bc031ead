"""Media: stream, download, getCoverArt, getLyrics, getLyricsBySongId.

Audio is always the original file (no transcoding here): ``maxBitRate``, ``format`` and
``timeOffset`` are accepted and ignored, as the Subsonic API allows when no transcoding
applies. Ranges, conditional requests, X-Accel-Redirect and cover images are
``bridge.files``', shared with REST.
"""
from __future__ import annotations

import os
import re
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from bridge.files import album_cover, cover_by_id, cover_response, stream_file, track_cover
from library import selectors
from library.userdata import playlists
from library.models import Track

from .. import ids, queries
from ..responses import NotFoundError
from . import Call, method

_TIME = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_TAG = re.compile(r"^\[([a-zA-Z#]+):(.*)\]\s*$")


def _track(call: Call) -> Track:
    pk = ids.parse(call.params.required("id"), ids.TRACK)
    track = Track.objects.playable().select_related("library").filter(pk=pk).first()
    if track is None:
        raise NotFoundError(f"No song {call.params.get('id')!r}.")
    return track


@method("stream")
def stream(call: Call) -> HttpResponse:
    return stream_file(call.http, _track(call))


@method("download")
def download(call: Call) -> HttpResponse:
    track = _track(call)
    response = stream_file(call.http, track)
    if response.status_code in (200, 206):
        response["Content-Disposition"] = content_disposition_header(True, os.path.basename(track.path) or f"{track.pk}.{track.format}")
    return response


@method("getCoverArt")
def get_cover_art(call: Call) -> HttpResponse:
    """The image of a cover-art (``co-``), album, track, artist or playlist id, fitted into ``size``."""
    kind, pk = ids.parse_any(call.params.required("id"), default=ids.COVER)
    size = call.params.int("size", None, minimum=1, maximum=100_000)
    if kind == ids.COVER:
        cover = cover_by_id(pk)
    elif kind == ids.ALBUM:
        cover = album_cover(pk)
    elif kind == ids.TRACK:
        cover = track_cover(pk)
    elif kind == ids.ARTIST:
        cover = queries.artist_cover(pk)
        if cover is None:
            raise NotFoundError(f"The artist {pk} has no cover art.")
    else:
        cover_id = playlists.playlist_get(call.user, pk)["cover"]
        if cover_id is None:
            raise NotFoundError(f"The playlist {pk} has no cover art.")
        cover = cover_by_id(cover_id)
    return cover_response(call.http, cover, size)


# -- lyrics ---------------------------------------------------------------------------------


def parse_lyrics(text: str) -> tuple[bool, list[dict[str, Any]]]:
    """``(synced, lines)`` of stored lyrics: LRC (``[mm:ss.xx]`` stamps, ``[offset:ms]``) gives
    timed lines in time order; anything else one line per line of text."""
    offset = 0
    timed: list[tuple[int, str]] = []
    plain: list[str] = []
    for raw in text.splitlines():
        stamps = list(_TIME.finditer(raw))
        if stamps and raw.startswith("["):
            words = _TIME.sub("", raw).strip()
            for stamp in stamps:
                minutes, secs, fraction = stamp.groups()
                ms = int((fraction or "0").ljust(3, "0")[:3])
                timed.append(((int(minutes) * 60 + int(secs)) * 1000 + ms, words))
            continue
        tag = _TAG.match(raw.strip())
        if tag:
            if tag.group(1).lower() == "offset":
                try:
                    offset = int(tag.group(2).strip())
                except ValueError:
                    pass
            continue
        plain.append(raw.rstrip())
    if timed:
        return True, [{"start": max(0, start - offset), "value": words} for start, words in sorted(timed, key=lambda t: t[0])]
    while plain and not plain[-1]:
        plain.pop()
    return False, [{"value": line} for line in plain]


def plain_lyrics(text: str) -> str:
    _synced, lines = parse_lyrics(text)
    return "\n".join(line["value"] for line in lines)


@method("getLyrics")
def get_lyrics(call: Call) -> dict[str, Any]:
    """The lyrics of the song with this title (and artist); an empty element when none are known."""
    artist, title = call.params.get("artist") or "", call.params.get("title") or ""
    track_id = queries.lyrics_track(artist, title) if title.strip() else None
    if track_id is None:
        return {"lyrics": {"artist": artist or None, "title": title or None, "value": ""}}
    track = selectors.track_get(track_id)
    return {"lyrics": {"artist": track["artist"], "title": track["title"], "value": plain_lyrics(track["lyrics"])}}


@method("getLyricsBySongId")
def get_lyrics_by_song_id(call: Call) -> dict[str, Any]:
    """OpenSubsonic ``songLyrics``: the song's lyrics as structured (possibly timed) lines."""
    track = selectors.track_get(ids.parse(call.params.required("id"), ids.TRACK))
    if not track["lyrics"].strip():
        return {"lyricsList": {"structuredLyrics": []}}
    synced, lines = parse_lyrics(track["lyrics"])
    return {"lyricsList": {"structuredLyrics": [{
        "displayArtist": track["artist"],
        "displayTitle": track["title"],
        "lang": "xxx",
        "offset": 0,
        "synced": synced,
        "line": lines,
    }]}}
