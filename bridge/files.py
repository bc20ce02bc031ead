"""The files the HTTP interfaces send, shared by the REST API and Subsonic: a track's audio
file and cover art.

**Audio** (``stream_file``): ``Accept-Ranges: bytes``; one byte range (``bytes=a-b``,
``bytes=a-``, ``bytes=-n``) answers ``206`` with ``Content-Range``, an unsatisfiable one
``416``; several ranges, or a malformed header, get the whole file (``200``), as RFC 9110
allows. Positions of any length are handled (compared, never parsed whole). ``ETag`` and
``Last-Modified`` come from the file's size and mtime, and ``If-None-Match`` /
``If-Modified-Since`` answer ``304``; ``If-Range`` is honoured. With
``STREAM_X_ACCEL_PREFIX`` set (e.g. ``/_music/``), the body is left to nginx via
``X-Accel-Redirect: <prefix><library id>/<path>``: nginx then maps that internal location
onto the library roots and does ranges itself (see the README).

**Covers** (``cover_response``): without a size, the stored file; with one, the image
fitted into ``N x N`` (aspect kept), N rounded up to one of ``BUCKETS`` (32..1200) so the
cache stays bounded; never enlarged. Copies are made with Pillow (JPEG, or PNG when the
image has transparency) and kept under ``DATA_DIR/covers/resized/<sha[:2]>/<sha>-<N>.<ext>``,
written atomically, so each is made once. ``Cache-Control: public, max-age=31536000,
immutable`` and an ``ETag`` from the content hash and size; ``If-None-Match`` answers 304.
Only JPEG, PNG, GIF and WebP are served inline (``X-Content-Type-Options: nosniff``); other
stored types are converted to PNG, or, when Pillow cannot read them, sent as an
``application/octet-stream`` attachment. A disabled library's albums and tracks give no
cover, by their id or by a cover id only they use.

A streamed file is read a chunk at a time as the client takes it; the server paces the
sending to the client's reading (``mediaproject.http``).
"""
from __future__ import annotations

import logging
import mimetypes
import os
import re
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

from common.errors import NotFound
from library.covers import cover_path, write_atomically
from library.files import NotRegularFile, open_regular, track_file
from library.models import Album, CoverArt, Track

logger = logging.getLogger(__name__)

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

INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp"}
BUCKETS = (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1200)
MAX_PIXELS = 40_000_000  # larger images are not decoded (decompression bombs): sent as stored
CACHE_CONTROL = "public, max-age=31536000, immutable"
_FORMATS = {"image/jpeg": ("jpg", "JPEG"), "image/png": ("png", "PNG")}


# -- audio ----------------------------------------------------------------------------------


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
    """The response serving ``track``'s original file for ``request`` (shared by REST and Subsonic)."""
    path = track_file(track)
    stat = path.stat()
    prefix = getattr(settings, "STREAM_X_ACCEL_PREFIX", "")
    accel = (f"{prefix}{track.library_id}/{quote(os.path.relpath(path, os.path.realpath(track.library.root)))}"
             if prefix else None)
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    return serve_file(request, path, content_type(track, path), etag=etag, stat=stat, accel=accel,
                      missing="The track's file is missing; rescan the library.")


def serve_file(request, path: Path, kind: str, *, etag: str, stat: os.stat_result | None = None,
               accel: str | None = None, missing: str = "The file is missing.", headers: dict | None = None) -> HttpResponse:
    """A file as an audio response: ranges, conditional requests, and ``X-Accel-Redirect``
    to ``accel`` when given (the original files; a finished transcode is always sent here)."""
    stat = stat or path.stat()
    size = stat.st_size
    last_modified = int(stat.st_mtime)
    headers = {"ETag": etag, "Last-Modified": http_date(last_modified), "Accept-Ranges": "bytes",
               "Cache-Control": "private, max-age=3600", **(headers or {})}

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

    if accel:
        response = HttpResponse(content_type=kind, headers=headers)
        response["X-Accel-Redirect"] = accel
        return response

    start, end = span if span else (0, size - 1)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(status=206 if span else 200, content_type=kind, headers=headers)
    else:
        try:
            handle = open_regular(path)  # opened now: a file swapped for a pipe is a 404, not a hang
        except OSError:
            raise NotFound(missing) from None
        chunks = (FileChunks if _under_asgi(request) else read_file)(handle, start, length)
        response = StreamingHttpResponse(chunks, status=206 if span else 200, content_type=kind, headers=headers)
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _under_asgi(request) -> bool:
    return hasattr(getattr(request, "_request", request), "scope")  # Django's ASGIRequest


# -- audio: transcoded ----------------------------------------------------------------------


def stream_track(request, track: Track, *, format: str | None = None, max_kbps: int | None = None,
                 offset_ms: int = 0, accept: frozenset[str] | None = None,
                 estimate_length: bool = False) -> HttpResponse:
    """``track`` as the client asked (``bridge.transcode.profiles.choose``): the original file
    (``stream_file``), or transcoded. ``X-Transcode-Profile`` names what is sent (``raw``
    for the original). A finished cache entry is served as a file (ranges, ETag); one being
    written is streamed as it grows, without ranges or a length (with ``estimate_length``,
    ``Content-Length`` is the profile's bitrate times the duration with some room for the
    container, and the body is cut there or padded with zero bytes, which decoders skip as
    they look for the next frame). ``offset_ms`` starts a transcode that far in (the
    original ignores it). Without a working ffmpeg the original is sent."""
    from bridge.transcode.binary import ffmpeg
    from bridge.transcode.profiles import choose

    chosen = None
    if ffmpeg().path is not None:
        chosen = choose(track.format, track.codec, track.bitrate, format=format, max_kbps=max_kbps, accept=accept)
    if chosen is None:
        response = stream_file(request, track)
        response["X-Transcode-Profile"] = "raw"
        return response
    return _transcoded(request, track, chosen, max(0, offset_ms), estimate_length)


def _transcoded(request, track: Track, profile, offset_ms: int, estimate_length: bool) -> HttpResponse:
    from bridge.transcode.cache import entry_key, transcoder

    path = track_file(track)
    stat = path.stat()
    headers = {"X-Transcode-Profile": profile.name, "Cache-Control": "private, max-age=3600"}
    expected = None
    if estimate_length:
        expected = profile.estimated_bytes(max(0, track.duration_ms - offset_ms))
    if request.method == "HEAD":
        response = HttpResponse(content_type=profile.mime, headers=headers)
        if expected is not None:
            response["Content-Length"] = str(expected)
        return response
    key = None if offset_ms else entry_key(track.pk, stat.st_size, stat.st_mtime_ns, profile)
    opened = transcoder().open(key, path, profile, offset_ms)
    if opened[0] == "hit":
        response = serve_file(request, opened[1], profile.mime, etag=f'"t-{key}"',
                              missing="The transcoded entry was removed; retry.",
                              headers={**headers, "X-Transcode-Cache": "hit"})
        return response
    how, job, handle = opened
    try:
        job.wait_first_bytes()
    except BaseException:
        handle.close()
        transcoder().leave(job)
        raise
    chunks = (GrowingChunks if _under_asgi(request) else GrowingChunksSync)(job, handle, expected)
    response = StreamingHttpResponse(chunks, content_type=profile.mime,
                                     headers={**headers, "X-Transcode-Cache": how, "Accept-Ranges": "none"})
    if expected is not None:
        response["Content-Length"] = str(expected)
    return response


GROW_POLL_SECONDS = (0.002, 0.05)  # first and longest wait for a growing entry to grow


class _Growing:
    """A cache entry being written, read as it grows (an async iterator, like ``FileChunks``):
    ends when ffmpeg finished and everything was sent; ``TranscodeAborted`` when it failed
    or was killed, so the server aborts the connection instead of ending the body as if it
    were complete. ``close()`` leaves the job (the last reader to leave stops ffmpeg)."""

    def __init__(self, job, handle: BinaryIO, limit: int | None = None) -> None:
        self.job, self.handle, self.limit = job, handle, limit
        self.sent = 0
        self.left = False

    def _next_size(self) -> int | None:
        """Bytes to read next; 0 to wait; None at the end."""
        job = self.job
        state = job.state  # before the size: once finished, the size read after it is final
        finished = state in ("done", "failed", "killed")
        size = job.size
        if self.limit is not None and self.sent >= self.limit:
            return None
        if self.limit is not None and finished and state == "done" and size <= self.sent:
            return -1  # the entry is shorter than the length announced: pad
        if size > self.sent:
            room = size - self.sent
            return min(CHUNK, room, self.limit - self.sent) if self.limit is not None else min(CHUNK, room)
        if not finished:
            return 0
        if state == "done":
            return None
        from bridge.transcode.cache import TranscodeAborted

        raise TranscodeAborted(f"the transcode stopped: {job.error or state}")

    async def _aiter(self):
        import asyncio

        read = sync_to_async(self.handle.read, thread_sensitive=False)
        shortest, longest = GROW_POLL_SECONDS
        delay = shortest
        while (want := self._next_size()) is not None:
            if want == 0:
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            delay = shortest
            chunk = bytes(min(CHUNK, self.limit - self.sent)) if want < 0 else await read(want)
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.handle.close()
        if not self.left:
            self.left = True
            from bridge.transcode.cache import transcoder

            transcoder().leave(self.job)


class GrowingChunks(_Growing):
    __aiter__ = _Growing._aiter


class GrowingChunksSync(_Growing):
    """``GrowingChunks`` for a WSGI server or Django's test client."""

    def __iter__(self):
        shortest, longest = GROW_POLL_SECONDS
        delay = shortest
        try:
            while (want := self._next_size()) is not None:
                if want == 0:
                    time.sleep(delay)
                    delay = min(delay * 2, longest)
                    continue
                delay = shortest
                chunk = bytes(min(CHUNK, self.limit - self.sent)) if want < 0 else self.handle.read(want)
                self.sent += len(chunk)
                yield chunk
        finally:
            self.close()


# -- covers: which one ----------------------------------------------------------------------


def album_cover(album_id: int) -> CoverArt:
    album = Album.objects.playable().select_related("cover").filter(pk=album_id).first()
    if album is None:
        raise NotFound(f"No album with id {album_id}.")
    if album.cover is None:
        raise NotFound(f"The album {album_id} has no cover art.")
    return album.cover


def track_cover(track_id: int) -> CoverArt:
    track = Track.objects.playable().select_related("cover", "album__cover").filter(pk=track_id).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    cover = track.cover or track.album.cover
    if cover is None:
        raise NotFound(f"The track {track_id} has no cover art.")
    return cover


def cover_by_id(cover_id: int) -> CoverArt:
    cover = CoverArt.objects.filter(_shown_cover(), pk=cover_id).first()
    if cover is None:
        raise NotFound(f"No cover art with id {cover_id}.")
    return cover


def _shown_cover() -> Q:
    """A cover that a playable album or track shows, or that nothing uses: not one that only
    a disabled library's albums and tracks show (``library.models``)."""
    def used_by(queryset) -> Exists:
        return Exists(queryset.filter(cover_id=OuterRef("pk")))

    return (Q(used_by(Album.objects.playable())) | Q(used_by(Track.objects.playable()))
            | (~Q(used_by(Album.objects.all())) & ~Q(used_by(Track.objects.all()))))


# -- covers: renditions ---------------------------------------------------------------------


def bucket(size: int) -> int:
    """The smallest bucket at least ``size`` (clamped to 32..1200)."""
    return next((b for b in BUCKETS if b >= size), BUCKETS[-1])


def resized_dir() -> Path:
    return Path(settings.DATA_DIR) / "covers" / "resized"


def _cached(cover: CoverArt, label: str) -> tuple[Path, str] | None:
    folder = resized_dir() / cover.sha256[:2]
    for mime, (ext, _) in _FORMATS.items():
        path = folder / f"{cover.sha256}-{label}.{ext}"
        if path.is_file():
            return path, mime
    return None


def rendition(cover: CoverArt, size: int | None) -> tuple[Path, str] | None:
    """A cached copy of ``cover`` fitted into ``size`` (or converted, for a type not served
    inline), made if needed; ``None`` when the stored file itself should be sent."""
    if size is None and cover.mime in INLINE:
        return None
    label = str(size) if size else "full"
    found = _cached(cover, label)
    if found is not None:
        return found
    from PIL import Image, ImageOps

    source = cover_path(cover)
    try:
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                return None
            if cover.mime in INLINE and (size is None or max(width, height) <= size):
                return None
            box = size or max(width, height)
            if image.format == "JPEG":
                image.draft("RGB", (box, box))  # decode at a reduced scale: much faster for big covers
            image = ImageOps.exif_transpose(image)
            image.thumbnail((box, box), Image.Resampling.LANCZOS)
            transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
            mime = "image/png" if transparent else "image/jpeg"
            image = image.convert("RGBA" if transparent else "RGB")
            ext, fmt = _FORMATS[mime]
            target = resized_dir() / cover.sha256[:2] / f"{cover.sha256}-{label}.{ext}"
            options = {"optimize": True} if fmt == "PNG" else {"quality": 85, "optimize": True, "progressive": True}
            write_atomically(target, lambda handle: image.save(handle, fmt, **options))
            return target, mime
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreadable, truncated, or too large to decode: send it as stored
        logger.warning("cover %s (%s) could not be resized: %s", cover.pk, cover.mime, exc)
        return None


# -- covers: the response -------------------------------------------------------------------


def cover_response(request, cover: CoverArt, size: int | None = None) -> HttpResponse:
    """The image of ``cover`` (fitted into a ``size`` bucket when given), with caching headers."""
    size = bucket(size) if size else None
    etag = f'"{cover.sha256[:32]}-{size or 0}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if_none_match = request.headers.get("If-None-Match", "")
    if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
        return HttpResponse(status=304, headers=headers)
    try:
        made = rendition(cover, size)
        path, mime = made if made is not None else (cover_path(cover), cover.mime)
        handle = open_regular(path)
    except (FileNotFoundError, NotRegularFile):
        raise NotFound("The cover art file is missing; rescan the library.") from None
    if mime in INLINE:
        disposition = "inline"
    else:  # never let a browser render an unknown type from this origin
        mime, disposition = "application/octet-stream", "attachment"
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response = FileResponse(handle, content_type=mime, headers=headers)
    response["Content-Disposition"] = disposition  # FileResponse would name the file by its hash
    return response
