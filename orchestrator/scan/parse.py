"""Reading one file in a parser process: tags to catalogue values, covers to the cover store.

Runs in the forked parser processes (``pool.ParsePool``): no database access. Each file
is opened once (by mutagen, through ``library.files.open_regular``); the text is cleaned
and cut to the column sizes and the sort/search keys made here (``library.text``), and
embedded covers and folder images are written to the cover store (content-addressed,
atomic; a picture repeated across an album is written once per process), so only their
hash travels back. A result is a ``Parsed`` (an audio file), a ``covers.CoverFile`` (a
folder image) or an ``Unreadable`` (why the file was skipped).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Union

from library import covers
from library.files import open_regular
from library.tags import TrackTags, UnreadableFile, read_tags
from library.text import clean, fold, sort_key, sort_key_of_folded

logger = logging.getLogger(__name__)

MAX_FOLDER_IMAGE = 20 * 1024 * 1024
_IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

UNKNOWN_ARTIST = "[Unknown Artist]"
UNKNOWN_ALBUM = "[Unknown Album]"


@dataclass(frozen=True)
class Unreadable:
    """A file the scan skips, and why (recorded on the ``ScanRun``)."""

    reason: str


def _mbid(value: str | None) -> str:
    return clean(value, 36) if value and len(value) <= 36 else ""


def _positive(value: Any, limit: int) -> int | None:
    return value if isinstance(value, int) and 0 < value <= limit else None


def _finite(value: Any) -> float | None:
    return value if isinstance(value, float) and math.isfinite(value) else None


cached_fold = functools.lru_cache(maxsize=65536)(fold)
cached_sort_key = functools.lru_cache(maxsize=65536)(sort_key)


def cached_search_key(*parts: str | None) -> str:
    """``library.text.search_key`` with each part's folding cached (artist and album names repeat)."""
    return " ".join(cached_fold(part) for part in parts if part)


def fingerprint(size: int, parsed: "Parsed") -> str:
    """``<size>:<hash of the audio properties and tags>``: what a file keeps when it is moved.

    Made from what the parser has already read, so a changed file is opened once (by
    mutagen) rather than twice. A moved or renamed file has the same bytes, so the same
    size, properties and tags; two different files that agree on all of these are, for a
    listener, the same track.
    """
    # Every field but the fingerprint and the cover, whose content hash stands for it.
    identity = repr((parsed[1:-1], parsed.cover.sha256 if parsed.cover else ""))
    digest = hashlib.blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=16)
    return f"{size}:{digest.hexdigest()}"


class Parsed(NamedTuple):
    """A file's catalogue values, cleaned and keyed in the parser process (cheap to pickle)."""

    fingerprint: str
    format: str
    codec: str
    duration_ms: int
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    title: str
    sort_title: str
    search_key: str
    artist_display: str
    artists: tuple[str, ...]  # at least one
    artist_mbid: str  # of the first artist
    album_artist: str
    album_artist_mbid: str
    album: str
    compilation: bool
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    musicbrainz_track_id: str
    musicbrainz_album_id: str
    musicbrainz_artist_id: str
    replaygain_track_gain: float | None
    replaygain_track_peak: float | None
    replaygain_album_gain: float | None
    replaygain_album_peak: float | None
    lyrics: str
    genres: tuple[str, ...]
    cover: covers.CoverFile | None


# What the parsers hand back for one file: an audio file's values, a folder image, or why not.
ParseResult = Union[Parsed, covers.CoverFile, Unreadable]


def prepare(tags: TrackTags, size: int, cover: covers.CoverFile | None, path: str = "") -> Parsed:
    """``TrackTags`` as the catalogue stores them: text cleaned and cut to the column sizes, keys made."""
    artists = tuple(dict.fromkeys(n for n in (clean(a, 500) for a in tags.artists) if n)) or (UNKNOWN_ARTIST,)
    album_artist = next((n for n in (clean(a, 500) for a in tags.album_artists) if n), artists[0])
    album = clean(tags.album, 500) or UNKNOWN_ALBUM
    title = clean(tags.title, 500) or clean(os.path.splitext(os.path.basename(path))[0], 500) or "?"
    folded_title = fold(title)  # titles rarely repeat: folded once, not cached
    parsed = Parsed(
        fingerprint="", format=clean(tags.format, 10), codec=clean(tags.codec, 20),
        duration_ms=max(0, min(int(tags.duration_ms or 0), 2**31 - 1)),
        bitrate=_positive(tags.bitrate, 2**31 - 1), sample_rate=_positive(tags.sample_rate, 2**31 - 1),
        channels=_positive(tags.channels, 32767),
        title=title, sort_title=clean(sort_key_of_folded(folded_title), 500),
        search_key=clean(f"{folded_title} {cached_search_key(*artists, album)}", 2000),  # = search_key(title, *artists, album)
        artist_display=clean(", ".join(artists), 1000), artists=artists,
        artist_mbid=_mbid(tags.musicbrainz_artist_id), album_artist=album_artist,
        album_artist_mbid=_mbid(tags.musicbrainz_albumartist_id), album=album, compilation=bool(tags.compilation),
        track_number=_positive(tags.track_number, 2**31 - 1), track_total=_positive(tags.track_total, 2**31 - 1),
        disc_number=_positive(tags.disc_number, 2**31 - 1), disc_total=_positive(tags.disc_total, 2**31 - 1),
        year=_positive(tags.year, 2**31 - 1),
        musicbrainz_track_id=_mbid(tags.musicbrainz_track_id), musicbrainz_album_id=_mbid(tags.musicbrainz_album_id),
        musicbrainz_artist_id=_mbid(tags.musicbrainz_artist_id),
        replaygain_track_gain=_finite(tags.replaygain_track_gain), replaygain_track_peak=_finite(tags.replaygain_track_peak),
        replaygain_album_gain=_finite(tags.replaygain_album_gain), replaygain_album_peak=_finite(tags.replaygain_album_peak),
        lyrics=clean(tags.lyrics, 100_000),
        genres=tuple(dict.fromkeys(g for g in (clean(g, 200) for g in tags.genres) if g)),
        cover=cover,
    )
    return parsed._replace(fingerprint=fingerprint(size, parsed))


def read_folder_image(path: str) -> covers.CoverFile | Unreadable:
    """A folder image into the cover store: its ``CoverFile``, or ``Unreadable``."""
    try:
        if os.path.getsize(path) > MAX_FOLDER_IMAGE:
            return Unreadable(f"folder image larger than {MAX_FOLDER_IMAGE // (1024 * 1024)} MiB; ignored")
        with open_regular(path) as fh:  # never a named pipe or device
            data = fh.read()
        mime = _IMAGE_MIME.get(os.path.splitext(path)[1].lower(), "")
        return covers.write_cover_file(data, mime, durable=False)
    except OSError as exc:
        return Unreadable(f"cannot read the folder image: {exc.strerror or exc}")
    except ValueError as exc:
        return Unreadable(f"cannot read the folder image: {exc}")


# The covers this parse run has stored, by (declared type, SHA-256): the tracks of an album
# usually embed the same picture, which is then written (and its file checked) once per
# parser process. Emptied by ``ParsePool`` before each run, so a cover file removed
# between scans is written again.
_stored_covers: dict[tuple[str, str], covers.CoverFile] = {}
_STORED_COVERS_MAX = 4096


def forget_stored_covers() -> None:
    """Before a parse run: write every cover again (its file may have been removed since)."""
    _stored_covers.clear()


def _store_cover(data: bytes, mime: str) -> covers.CoverFile:
    sha256 = hashlib.sha256(data).hexdigest()
    stored = _stored_covers.get((mime, sha256))
    if stored is None:
        if len(_stored_covers) >= _STORED_COVERS_MAX:
            _stored_covers.clear()
        stored = _stored_covers[mime, sha256] = covers.write_cover_file(data, mime, durable=False, sha256=sha256)
    return stored


def parse_file(item: tuple[str, int]) -> ParseResult:
    """Read one audio file: ``Parsed`` or ``Unreadable``; size -1: a folder image (``read_folder_image``)."""
    path, size = item
    if size < 0:
        return read_folder_image(path)
    try:
        if size == 0:
            raise UnreadableFile(path, "empty file")
        tags = read_tags(path)
    except UnreadableFile as exc:
        return Unreadable(exc.reason)
    except OSError as exc:
        return Unreadable(f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the scan
        return Unreadable(f"{type(exc).__name__}: {exc}")
    cover = None
    if tags.cover is not None:
        try:
            cover = _store_cover(tags.cover.data, tags.cover.mime)
        except (OSError, ValueError) as exc:
            logger.warning("could not store the cover of %s: %s", path, exc)
    try:
        return prepare(tags, size, cover, path)
    except Exception as exc:  # noqa: BLE001
        return Unreadable(f"{type(exc).__name__}: {exc}")


# The parse function the pool calls. Tests may swap it (before the scan starts: parser
# processes are forked with the module as it is then).
PARSE: Callable[[tuple[str, int]], ParseResult] = parse_file


def parse_chunk(items: list[tuple[str, int]]) -> list[ParseResult]:
    """``PARSE`` over a chunk of files (one task of the pool)."""
    parse = PARSE
    return [parse(item) for item in items]
