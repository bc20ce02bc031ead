"""Downloads: one track's file as an attachment, or an album's or a playlist's files as one
zip archive, streamed as it is read (no compression: audio does not shrink; no temporary
file; memory bounded by a chunk).

Only what the asker may play goes in: tracks of enabled libraries (``playable()``), a
playlist of theirs or a public one (``library.userdata.playlists.playlist_get`` decides).
Every file is reached through ``library.files.track_file`` (never outside its library
root) and opened with ``open_regular``; a file missing or unreadable at the time is left out
of the archive rather than ending it half-way. Names inside the archive are built from tags,
never from stored paths: ``<Album>/<disc>-<nn> - <Title>.<ext>`` or ``<Playlist>/<nnn> -
<Artist> - <Title>.<ext>``, made safe for any file system and unique.
"""
from __future__ import annotations

import os
import re
import time
import zipfile
from typing import Iterable, Iterator
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.db.models import F
from django.http import StreamingHttpResponse

from common.errors import Forbidden, NotFound
from library.files import open_regular, track_file
from library.models import Album, Track

CHUNK = 256 * 1024
MAX_NAME = 120  # characters of a name part
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(text: str, fallback: str = "untitled") -> str:
    """A file or folder name from tag text: no separators or reserved characters, no leading
    dots, at most ``MAX_NAME`` characters."""
    name = _UNSAFE.sub("_", text or "").strip().lstrip(".").strip()
    return name[:MAX_NAME].rstrip() or fallback


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class _Sink:
    """The archive's output: collects what zipfile writes until the stream takes it. It has
    no ``seek``, so zipfile writes each entry's sizes after its data (a data descriptor)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


def zip_chunks(entries: Iterable[tuple[str, Track]]) -> Iterator[bytes]:
    """The bytes of a stored (uncompressed) zip of ``(name in the archive, track)``."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, track in entries:
            try:
                path = track_file(track)
                handle = open_regular(path)
            except (NotFound, Forbidden, OSError):
                continue  # gone or moved since the scan: the rest still comes
            with handle:
                stamp = time.localtime(max(os.fstat(handle.fileno()).st_mtime, 315532800))  # zip dates start in 1980
                info = zipfile.ZipInfo(name, date_time=stamp[:6])
                info.compress_type = zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=True) as out:
                    while chunk := handle.read(CHUNK):
                        out.write(chunk)
                        yield sink.take()
            yield sink.take()
    yield sink.take()


class _AsyncChunks:
    """A sync chunk iterator as an async one, each step in a worker thread: under ASGI, Django
    would otherwise read a sync iterator whole into memory before sending it."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def _next(self) -> bytes | None:
        return next(self.chunks, None)

    async def __aiter__(self):
        step = sync_to_async(self._next, thread_sensitive=False)
        while (chunk := await step()) is not None:
            if chunk:
                yield chunk

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close:
            close()


def zip_response(request, archive_name: str, entries: list[tuple[str, Track]]) -> StreamingHttpResponse:
    under_asgi = hasattr(getattr(request, "_request", request), "scope")
    chunks = zip_chunks(entries)
    response = StreamingHttpResponse(_AsyncChunks(chunks) if under_asgi else chunks, content_type="application/zip")
    response["Content-Disposition"] = content_disposition(f"{archive_name}.zip")
    response["Cache-Control"] = "private, no-store"
    return response


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        stem, ext = os.path.splitext(name)
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate, n = f"{stem} ({n}){ext}", n + 1
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def _extension(track: Track) -> str:
    ext = os.path.splitext(track.path)[1].lower()
    return ext if re.fullmatch(r"\.[a-z0-9]{1,5}", ext) else f".{safe_name(track.format, 'audio')}"


def album_entries(album_id: int) -> tuple[str, list[tuple[str, Track]]]:
    """The archive name and entries of an album (its playable tracks in disc and track order)."""
    album = Album.objects.playable().select_related("album_artist").filter(pk=album_id).first()
    if album is None:
        raise NotFound(f"No album with id {album_id}.")
    tracks = list(
        Track.objects.playable().filter(album_id=album_id).select_related("library")
        .order_by(F("disc_number").asc(nulls_first=True), F("track_number").asc(nulls_last=True), "sort_title", "id")
    )
    folder = safe_name(f"{album.album_artist.name} - {album.title}")
    discs = len({t.disc_number for t in tracks}) > 1
    names = []
    for index, track in enumerate(tracks, 1):
        number = f"{track.track_number or index:02d}"
        if discs:
            number = f"{track.disc_number or 0}-{number}"
        names.append(f"{folder}/{number} - {safe_name(track.title)}{_extension(track)}")
    return folder, list(zip(_unique(names), tracks))


def playlist_entries(user, playlist_id: int) -> tuple[str, list[tuple[str, Track]]]:
    """The archive name and entries of a playlist the user may see, in playlist order."""
    from library.userdata import playlists

    playlist = playlists.playlist_get(user, playlist_id)  # NotFound for others' private ones
    ids = [t["id"] for t in playlist["tracks"]]
    by_id = Track.objects.playable().select_related("library").in_bulk(ids)
    tracks = [by_id[pk] for pk in ids if pk in by_id]
    folder = safe_name(playlist["name"])
    width = max(2, len(str(len(tracks))))
    names = [f"{folder}/{i:0{width}d} - {safe_name(t.artist_display)} - {safe_name(t.title)}{_extension(t)}"
             for i, t in enumerate(tracks, 1)]
    return folder, list(zip(_unique(names), tracks))


def track_filename(track: Track) -> str:
    return f"{safe_name(track.artist_display)} - {safe_name(track.title)}{_extension(track)}"
