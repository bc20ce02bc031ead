"""Media: stream, download, getCoverArt, getLyrics, getLyricsBySongId.

``stream`` transcodes as the app asks (``format``, incl. ``raw``; ``maxBitRate`` in kbit/s;
``timeOffset`` in seconds; ``estimateContentLength``), with the user's defaults
(``credentials.stream_defaults``) for what the app leaves out: the default format when it
names none, and the lower of the two maximum bitrates. ``download`` is always the original.
Ranges, conditional requests, X-Accel-Redirect, the transcode cache and cover images are
``bridge.files``', shared with REST.
"""
from __future__ import annotations

import os
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from bridge.files import album_cover, cover_by_id, cover_response, stream_file, stream_track, track_cover
from bridge.transcode.profiles import codec_named
from library import selectors
from library.lyrics import parse_lyrics, plain_lyrics
from library.userdata import playlists
from library.models import Track

from .. import credentials, ids, queries
from ..responses import NotFoundError
from . import Call, method



def _track(call: Call) -> Track:
    pk = ids.parse(call.params.required("id"), ids.TRACK)
    track = Track.objects.playable().select_related("library").filter(pk=pk).first()
    if track is None:
        raise NotFoundError(f"No song {call.params.get('id')!r}.")
    return track


MAX_OFFSET_SECONDS = 24 * 3600


@method("stream")
def stream(call: Call) -> HttpResponse:
    track = _track(call)
    default_format, default_max = credentials.stream_defaults(call.user)
    asked = call.params.int("maxBitRate", 0, minimum=0, maximum=credentials.MAX_STREAM_BITRATE)
    limits = [rate for rate in (asked, default_max) if rate]
    return stream_track(
        call.http, track,
        format=codec_named(call.params.get("format"), strict=False) or codec_named(default_format, strict=False),
        max_kbps=min(limits) if limits else None,
        offset_ms=call.params.int("timeOffset", 0, minimum=0, maximum=MAX_OFFSET_SECONDS) * 1000,
        estimate_length=bool(call.params.bool("estimateContentLength", False)),
    )


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
