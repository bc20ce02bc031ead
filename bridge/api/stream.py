"""Streaming a track's original file, with HTTP ranges and conditional requests.

``GET /api/v1/tracks/{id}/stream``: ``Accept-Ranges: bytes``; one byte range
(``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) answers ``206`` with ``Content-Range``, an
unsatisfiable one ``416``; several ranges, or a malformed header, get the whole file
(``200``), as RFC 9110 allows. Positions of any length are handled (compared, never
parsed whole). ``ETag`` and ``Last-Modified`` come from the file's size and mtime, and
``If-None-Match`` / ``If-Modified-Since`` answer ``304``; ``If-Range`` is honoured.

With ``STREAM_X_ACCEL_PREFIX`` set (e.g. ``/_music/``), the body is left to nginx via
``X-Accel-Redirect: <prefix><library id>/<path>``: nginx then maps that internal
location onto the library roots and does ranges itself (see the README).
"""
from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe
from rest_framework.views import APIView

from common.errors import NotFound
from library.files import open_regular, track_file
from library.models import Track

CHUNK = 64 * 1024
RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
BEYOND = 10**18  # past the end of any file
AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "wma": "audio/x-ms-wma",
}


def content_type(track: Track, path: Path) -> str:
    return AUDIO_TYPES.get(track.format) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _position(digits: str) -> int:
    """A byte position's digits as a number; a number past any file's end (``BEYOND``) when it
    has more digits than any file size (Python refuses to parse over 4,300 digits)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < len(str(BEYOND)) else BEYOND


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """``(start, end)`` inclusive, ``None`` to send everything, ``"unsatisfiable"``.

    Any header at all gets one of the three: only ASCII digits count (RFC 9110's DIGIT),
    and positions of any length are compared with the file's size, never parsed whole.
    """
    match = RANGE.fullmatch(header.strip())
    if not match:
        return None  # several ranges, another unit or no valid range: the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = _position(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = _position(first)
    end = min(_position(last), size - 1) if last else size - 1
    if start >= size or (last and _position(last) < start):
        return "unsatisfiable"
    return start, end


def read_file(handle: BinaryIO, start: int, length: int):
    """The bytes ``start`` .. ``start + length`` of an open file, a chunk at a time; closes it."""
    with handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


class FileChunks:
    """``read_file`` for the ASGI server: an async iterator, each chunk read in a thread and
    sent before the next is read.

    Given a sync iterator, Django's ASGI handler reads all of it into a list before it
    sends the first byte (so playback, and every seek, waited for the whole file to be
    read); an async iterator is sent as it is read, as fast as the client takes it (see
    ``mediaproject.http``). ``close()``, which Django calls when it closes the response,
    closes the file even when sending stopped early (a client gone or dropped).
    """

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        self.handle, self.start, self.length = handle, start, length

    def _read(self, size: int) -> bytes:
        return self.handle.read(size)

    async def __aiter__(self):
        read = sync_to_async(self._read, thread_sensitive=False)
        await sync_to_async(self.handle.seek, thread_sensitive=False)(self.start)
        remaining = self.length
        while remaining > 0:
            chunk = await read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.handle.close()


def stream_file(request, track: Track) -> HttpResponse:
    """The response serving ``track``'s file for ``request`` (shared by REST and Subsonic)."""
    path = track_file(track)
    stat = path.stat()
    size = stat.st_size
    etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
    last_modified = int(stat.st_mtime)
    headers = {"ETag": etag, "Last-Modified": http_date(last_modified), "Accept-Ranges": "bytes",
               "Cache-Control": "private, max-age=3600"}

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
            return HttpResponse(status=304, headers=headers)
    else:
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is not None and last_modified <= since:
            return HttpResponse(status=304, headers=headers)

    span = None
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (if_range is None or if_range.strip() in (etag, http_date(last_modified))):
        span = parse_range(range_header, size)
        if span == "unsatisfiable":
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})

    kind = content_type(track, path)
    prefix = getattr(settings, "STREAM_X_ACCEL_PREFIX", "")
    if prefix:
        response = HttpResponse(content_type=kind, headers=headers)
        response["X-Accel-Redirect"] = f"{prefix}{track.library_id}/{quote(os.path.relpath(path, os.path.realpath(track.library.root)))}"
        return response

    start, end = span if span else (0, size - 1)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(status=206 if span else 200, content_type=kind, headers=headers)
    else:
        try:
            handle = open_regular(path)  # opened now: a file swapped for a pipe is a 404, not a hang
        except OSError:
            raise NotFound("The track's file is missing; rescan the library.") from None
        under_asgi = hasattr(getattr(request, "_request", request), "scope")  # Django's ASGIRequest
        chunks = (FileChunks if under_asgi else read_file)(handle, start, length)
        response = StreamingHttpResponse(chunks, status=206 if span else 200, content_type=kind, headers=headers)
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


class TrackStreamView(APIView):
    """The original audio file of a track, for any signed-in user."""

    def get(self, request, track_id: int):
        try:
            track = Track.objects.playable().select_related("library").get(pk=track_id)
        except Track.DoesNotExist:
            raise NotFound(f"No track {track_id}.") from None
        return stream_file(request, track)

    head = get
