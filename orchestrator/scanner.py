"""The library scanner: keeps a library's catalogue in step with its folder.

One scan (``run(scan_run)``) goes through three phases, reported on the library's
``library.scan`` tracker at most ``REPORT_INTERVAL`` apart:

1. **walking**: ``os.scandir`` over the tree, one ``stat`` per audio file (and per
   folder: loop detection and folder-change detection). Only files with a known audio
   extension are considered. The result is compared with the catalogue, loaded once as
   ``{path: (size, mtime_ns, id, album_id)}``: a file whose size and mtime are unchanged
   is not opened (unless the scan is ``full``). The others go to the parsers as the walk
   finds them, after their folder's cover image (``ParsePool``; in a library of more than
   about a thousand files, parsing starts while the walk goes on).
2. **parsing**: changed and new files are read by a pool of ``os.cpu_count()`` forked
   processes (chunks of files per task, about two batches in flight) which also clean
   the text, make the sort/search keys (``library.text``), hash a fingerprint and write
   embedded covers and folder images to the cover store (``library.covers``; a picture
   repeated across an album is written once per process). Each file is opened once.
   Results are read once the walk is over. The main process writes ``BATCH_SIZE`` files per transaction with
   multi-row statements (``insert_rows``): tracks, artists/albums/genres (got or created, cached for the scan),
   cover rows, track artists and genres, and the aggregates of every album the batch
   touched (track count, duration, disc count, year, genres, cover). A new file whose
   ``fingerprint`` (size + hash of its audio properties and tags) equals that of a vanished
   file takes over that file's Track row (same id), so a move or rename keeps
   favourites, plays and playlist entries.
3. **cleaning**: tracks whose files vanished are deleted (in batches), albums left
   without tracks and artists/genres nobody refers to are removed.

Each batch is atomic and the next scan's diff picks up whatever an interrupted scan did
not do, so the catalogue is consistent at every commit.

**Covers.** A track's cover is its embedded picture. An album's cover is the image of
its folder (``find_folder_cover``: cover/folder/front... .jpg/.png; a disc folder such
as "CD 2" also looks in its parent), else the embedded cover of its first track that has
one. Albums are recomputed when their tracks change, and when their folder changed since
the last completed scan (the folder's or its image's mtime; ``full`` re-reads all).

Safety: nothing outside the library root is read. Symlinks are followed only when their
real path is inside the root (``realpath`` + ``commonpath``); folders already visited
(same ``(st_dev, st_ino)``) are skipped, which stops symlink loops (real folders are
walked before symlinked ones, so the real path wins). A folder that cannot be listed,
a corrupt, empty or truncated file, a broken link, a symlink leading out, an audio or
image name on a named pipe, socket or device (files are opened only through
``library.files.open_regular``, which never blocks and refuses anything but a regular
file, so one swapped after the walk is caught too): recorded on
the ``ScanRun`` (the first ``ScanRun.MAX_ERRORS``; ``error_count`` keeps counting) and
skipped, never fatal. The tracks under a folder that could not be listed are kept, not
deleted, and so is the row of a catalogued file that has become unreadable. A library
folder that is missing, or empty while the catalogue is not (an unmounted disk), fails
the scan instead of emptying the catalogue.

**File names in any encoding.** Paths are stored relative to the root, "/"-separated,
as text. Names that are not valid UTF-8 (``os.fsdecode`` gives lone surrogates
U+DC80..U+DCFF for their undecodable bytes, which no database text column accepts) are
stored escaped: each undecodable byte as ``\\xNN`` (two lower-case hex digits) and a
literal backslash as ``\\\\``. Every other name is stored exactly as it is on disk.
``path_to_text`` / ``text_to_path`` (alias ``path_to_db`` / ``path_from_db``) convert
both ways (``text_to_path`` returns the ``str`` that ``open()`` accepts);
``track_file(root, path)`` gives the real file, or None outside the root.

One scan per library at a time: a lease on ``Library.lease_holder``/``lease_expires``,
taken with a conditional UPDATE (an expired lease may be taken over), renewed at every
batch and released at the end. A scan that cannot take the lease does not run: its
``ScanRun`` is marked ``cancelled`` with a message saying which scan holds the lease.

Messages: the ``ScanRun`` (read by staff only) keeps the whole text; the library's scan
tracker, which every user reads, gets it through ``reader_message``, without filesystem
paths (the library's folder is named by the library, paths inside it are relative).
Taking a lease over also fails the stale ``running`` ScanRun and tracker it left.

Cancelling: ``library.scan.cancel`` moves the tracker to ``cancelling``; the scanner
checks at every batch (and every second while walking), stops, and dispatches
``library.scan.halt``. The staff events (``library.scan.started|completed|failed``) go
out after commit through ``orchestrator.actions.broadcast_lifecycle``.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import math
import multiprocessing
import os
import re
import sqlite3
import stat as statmod
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.constants import OnConflict
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from library import covers
from library.files import open_regular
from library.models import Album, Artist, Genre, Library, ScanRun, Track, TrackArtist
from library.tags import TrackTags, UnreadableFile, find_folder_cover, read_tags
from library.text import fold, search_key, sort_key, sort_key_of_folded

logger = logging.getLogger(__name__)

SCAN_KIND = "library.scan"
BATCH_SIZE = 1000  # files written per transaction
LEASE_SECONDS = 300  # a scan that stops renewing for this long may be taken over
REPORT_INTERVAL = 0.5  # seconds between progress reports on the tracker (at most 2/s)
WALK_CHECK_INTERVAL = 1.0  # seconds between cancel checks / lease renewals while walking
MAX_FOLDER_IMAGE = 20 * 1024 * 1024
NOT_REGULAR = "not a regular file (a named pipe, socket or device); skipped"
MTIME_SLACK_NS = 2_000_000_000  # file system timestamp granularity and clock skew
TAKE_EVERY = 256  # files found by the walk between two looks at them (see Scanner._take)
IN_CHUNK = 500  # ids per "IN (...)" list (SQLite limits the parameters of a statement)

AUDIO_EXTENSIONS = frozenset({
    ".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".spx", ".m4a", ".m4b", ".mp4", ".aac", ".alac",
    ".wav", ".aif", ".aiff", ".aifc", ".wma", ".asf", ".ape", ".wv", ".mpc", ".tta", ".ofr", ".ofs",
    ".dsf", ".dff", ".ac3", ".tak",
})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
_IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_DISC_FOLDER = re.compile(r"^(cd|disc|disk|part)\s*[-_.]?\s*\d+\b", re.IGNORECASE)

UNKNOWN_ARTIST = "[Unknown Artist]"
UNKNOWN_ALBUM = "[Unknown Album]"


def _clean(value: Any, limit: int) -> str:
    """Text a database accepts: no lone surrogates, no NUL, at most ``limit`` characters."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:limit]


_ABSOLUTE_PATH = re.compile(r"""(?<![\w.~])/[^\s'"]+""")


def reader_message(message: str, library: Library) -> str:
    """``message`` as every user may read it: the library's folder (as configured or
    resolved) replaced by the library's name, paths inside it made relative, and any other
    absolute path left out."""
    for root in sorted({library.root.rstrip("/"), os.path.realpath(library.root)}, key=len, reverse=True):
        if root:
            message = message.replace(root + "/", "").replace(root, f'"{library.name}"')
    return _ABSOLUTE_PATH.sub("…", message)


def _mbid(value: str | None) -> str:
    return _clean(value, 36) if value and len(value) <= 36 else ""


def _positive(value: Any, limit: int) -> int | None:
    return value if isinstance(value, int) and 0 < value <= limit else None


def _finite(value: Any) -> float | None:
    return value if isinstance(value, float) and math.isfinite(value) else None


_fold = functools.lru_cache(maxsize=65536)(fold)
_sort_key = functools.lru_cache(maxsize=65536)(sort_key)


def _search_key(*parts: str | None) -> str:
    """``library.text.search_key`` with each part's folding cached (artist and album names repeat)."""
    return " ".join(_fold(part) for part in parts if part)




# --------------------------------------------------------------------------- path text


def path_to_text(rel: str) -> str:
    """An ``os``-level relative path (maybe with surrogate escapes) as storable text (reversible)."""
    if rel.isascii():
        if "\\" not in rel:
            return rel
    else:
        try:
            rel.encode("utf-8")
            if "\\" not in rel:
                return rel
        except UnicodeEncodeError:
            pass
    out = []
    for ch in rel:
        if ch == "\\":
            out.append("\\\\")
        elif "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(ch)
    return "".join(out)


_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def text_to_path(text: str) -> str:
    """The inverse of ``path_to_text``: the ``str`` that ``open()``/``os.stat`` take."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(0xDC00 + int(m.group(1)[1:], 16)), text)


# The names library.files uses.
path_to_db = path_to_text
path_from_db = text_to_path


def is_inside(path: str, root: str) -> bool:
    """``path`` (a real path) is ``root`` or below it."""
    if path == root:
        return True
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def track_file(root: str, path: str) -> str | None:
    """The real file of a stored track path, or None when it resolves outside the library root."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, text_to_path(path)))
    return real if is_inside(real, real_root) and real != real_root else None


# --------------------------------------------------------------------------- parsing (worker processes)


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


def prepare(tags: TrackTags, size: int, cover: covers.CoverFile | None, path: str = "") -> Parsed:
    """``TrackTags`` as the catalogue stores them: text cleaned and cut to the column sizes, keys made."""
    artists = tuple(dict.fromkeys(n for n in (_clean(a, 500) for a in tags.artists) if n)) or (UNKNOWN_ARTIST,)
    album_artist = next((n for n in (_clean(a, 500) for a in tags.album_artists) if n), artists[0])
    album = _clean(tags.album, 500) or UNKNOWN_ALBUM
    title = _clean(tags.title, 500) or _clean(os.path.splitext(os.path.basename(path))[0], 500) or "?"
    folded_title = fold(title)  # titles rarely repeat: folded once, not cached
    parsed = Parsed(
        fingerprint="", format=_clean(tags.format, 10), codec=_clean(tags.codec, 20),
        duration_ms=max(0, min(int(tags.duration_ms or 0), 2**31 - 1)),
        bitrate=_positive(tags.bitrate, 2**31 - 1), sample_rate=_positive(tags.sample_rate, 2**31 - 1),
        channels=_positive(tags.channels, 32767),
        title=title, sort_title=_clean(sort_key_of_folded(folded_title), 500),
        search_key=_clean(f"{folded_title} {_search_key(*artists, album)}", 2000),  # = search_key(title, *artists, album)
        artist_display=_clean(", ".join(artists), 1000), artists=artists,
        artist_mbid=_mbid(tags.musicbrainz_artist_id), album_artist=album_artist,
        album_artist_mbid=_mbid(tags.musicbrainz_albumartist_id), album=album, compilation=bool(tags.compilation),
        track_number=_positive(tags.track_number, 2**31 - 1), track_total=_positive(tags.track_total, 2**31 - 1),
        disc_number=_positive(tags.disc_number, 2**31 - 1), disc_total=_positive(tags.disc_total, 2**31 - 1),
        year=_positive(tags.year, 2**31 - 1),
        musicbrainz_track_id=_mbid(tags.musicbrainz_track_id), musicbrainz_album_id=_mbid(tags.musicbrainz_album_id),
        musicbrainz_artist_id=_mbid(tags.musicbrainz_artist_id),
        replaygain_track_gain=_finite(tags.replaygain_track_gain), replaygain_track_peak=_finite(tags.replaygain_track_peak),
        replaygain_album_gain=_finite(tags.replaygain_album_gain), replaygain_album_peak=_finite(tags.replaygain_album_peak),
        lyrics=_clean(tags.lyrics, 100_000),
        genres=tuple(dict.fromkeys(g for g in (_clean(g, 200) for g in tags.genres) if g)),
        cover=cover,
    )
    return parsed._replace(fingerprint=fingerprint(size, parsed))


def read_folder_image(path: str) -> tuple:
    """A folder image into the cover store: ``("cover", CoverFile)`` or ``("error", reason)``."""
    try:
        if os.path.getsize(path) > MAX_FOLDER_IMAGE:
            return ("error", f"folder image larger than {MAX_FOLDER_IMAGE // (1024 * 1024)} MiB; ignored")
        with open_regular(path) as fh:  # never a named pipe or device
            data = fh.read()
        mime = _IMAGE_MIME.get(os.path.splitext(path)[1].lower(), "")
        return ("cover", covers.write_cover_file(data, mime, durable=False))
    except OSError as exc:
        return ("error", f"cannot read the folder image: {exc.strerror or exc}")
    except ValueError as exc:
        return ("error", f"cannot read the folder image: {exc}")


# The covers this parse run has stored, by (declared type, SHA-256): the tracks of an album
# usually embed the same picture, which is then written (and its file checked) once per
# parser process. Emptied by ``ParsePool`` before each run, so a cover file removed
# between scans is written again.
_stored_covers: dict[tuple[str, str], covers.CoverFile] = {}
_STORED_COVERS_MAX = 4096


def _store_cover(data: bytes, mime: str) -> covers.CoverFile:
    sha256 = hashlib.sha256(data).hexdigest()
    stored = _stored_covers.get((mime, sha256))
    if stored is None:
        if len(_stored_covers) >= _STORED_COVERS_MAX:
            _stored_covers.clear()
        stored = _stored_covers[mime, sha256] = covers.write_cover_file(data, mime, durable=False, sha256=sha256)
    return stored


def parse_file(item: tuple[str, int]) -> tuple:
    """Read one audio file: ``("ok", Parsed)`` or ``("error", reason)``; size -1: a folder image.

    Runs in the parser processes: no database access. Embedded covers and folder images
    are written to the cover store here (content-addressed, atomic), so only their hash
    travels back.
    """
    path, size = item
    if size < 0:
        return read_folder_image(path)
    try:
        if size == 0:
            raise UnreadableFile(path, "empty file")
        tags = read_tags(path)
    except UnreadableFile as exc:
        return ("error", exc.reason)
    except OSError as exc:
        return ("error", f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the scan
        return ("error", f"{type(exc).__name__}: {exc}")
    cover = None
    if tags.cover is not None:
        try:
            cover = _store_cover(tags.cover.data, tags.cover.mime)
        except (OSError, ValueError) as exc:
            logger.warning("could not store the cover of %s: %s", path, exc)
    try:
        return ("ok", prepare(tags, size, cover, path))
    except Exception as exc:  # noqa: BLE001
        return ("error", f"{type(exc).__name__}: {exc}")


# The parse function the pool calls. Tests may swap it (before the scan starts: parser
# processes are forked with the module as it is then).
PARSE: Callable[[tuple[str, int]], tuple] = parse_file


def _parse_chunk(items: list[tuple[str, int]]) -> list[tuple]:
    parse = PARSE
    return [parse(item) for item in items]


def default_workers() -> int:
    return os.cpu_count() or 1


class ParsePool:
    """``PARSE`` over files handed in one by one, by ``workers`` forked processes; results in order.

    ``add(item, tag)`` queues a file. Once enough are queued to fill every process's
    chunks (so from a large library, while it is still being walked), whole chunks go
    out at once, up to about ``ahead`` files in flight. ``results()`` yields every
    ``(tag, result)`` in the order added, keeping the window full: the parsers keep going
    while the caller writes a batch, and memory stays bounded however many files there
    are. ``workers`` <= 1 parses in this process, in ``results()``. ``close()`` (or
    leaving the ``with`` block) stops the processes, also on cancel or error.
    """

    CHUNK = 64

    def __init__(self, workers: int | None = None, parse: Callable[[list], list] | None = None,
                 ahead: int = 2 * BATCH_SIZE) -> None:
        self.workers = default_workers() if workers is None else workers
        self.parse = parse or _parse_chunk
        self.ahead = ahead
        self.queued: deque[tuple[Any, tuple[str, int]]] = deque()  # (tag, item)
        self.pending: deque[tuple[list, Any]] = deque()  # (tags, future of the chunk's results)
        self.chunk = self.CHUNK
        self.pool: ProcessPoolExecutor | None = None
        self._daemonic = False
        # Queued files that start the processes before ``results()`` (enough for full chunks).
        self._early = self.workers * 8 * self.CHUNK if self.workers > 1 else float("inf")
        _stored_covers.clear()

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add(self, item: tuple[str, int], tag: Any = None) -> None:
        self.queued.append((tag, item))
        if len(self.queued) >= self._early and len(self.pending) < self._in_flight():
            self._submit()

    def results(self) -> Iterator[tuple[Any, tuple]]:
        if self.workers <= 1:
            while self.queued:
                tag, item = self.queued.popleft()
                yield tag, self.parse([item])[0]
            return
        if self.pool is None:  # a small library: chunks sized so every process gets some
            self.chunk = max(1, min(self.CHUNK, len(self.queued) // (self.workers * 8) or 1))
        else:
            gc.freeze()  # what was made since the pool started (the queue, say) stays put too
        while self.queued or self.pending:
            self._submit(final=True)
            tags, future = self.pending.popleft()
            yield from zip(tags, future.result())

    def _in_flight(self) -> int:
        """Chunks out at once: about ``ahead`` files, at least 4 chunks per process."""
        return max(self.workers * 4, self.ahead // self.chunk)

    def _submit(self, final: bool = False) -> None:
        in_flight = self._in_flight()
        while len(self.pending) < in_flight and (len(self.queued) >= self.chunk or (final and self.queued)):
            work = [self.queued.popleft() for _ in range(min(self.chunk, len(self.queued)))]
            self.pending.append(([tag for tag, _ in work], self._start().submit(self.parse, [i for _, i in work])))

    def _start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # django-q2 runs tasks in daemonic processes (unless Q_CLUSTER["daemonize_workers"]
            # is False), and multiprocessing refuses children to those; the pool is shut down
            # before this process goes on, so it may have them.
            current = multiprocessing.current_process()
            self._daemonic = current.daemon
            if self._daemonic:
                current.daemon = False
            # The forked parsers share this process's objects copy-on-write; frozen, the garbage
            # collector (theirs and ours) skips them instead of touching, and so copying, every page.
            gc.freeze()
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("fork"))
        return self.pool

    def close(self) -> None:
        self.queued.clear()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            gc.unfreeze()
            if self._daemonic:
                multiprocessing.current_process().daemon = True


# --------------------------------------------------------------------------- walking


@dataclass
class Walk:
    files: list[tuple[str, int, int]] = field(default_factory=list)  # (rel os path, size, mtime_ns)
    folder_images: dict[str, tuple[str, int]] = field(default_factory=dict)  # rel dir -> (name, mtime_ns)
    dir_mtimes: dict[str, int] = field(default_factory=dict)  # rel dir -> mtime_ns
    unlisted: list[str] = field(default_factory=list)  # rel dirs that could not be listed
    unstatable: set[str] = field(default_factory=set)  # rel audio paths that could not be stat'ed


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def walk(root: str, *, error: Callable[[str, str], None], tick: Callable[[Walk], None] | None = None,
         scandir: Callable[[str], Any] | None = None) -> Walk:
    """Walk ``root`` (a real path); see the module docstring for what is followed and recorded.

    ``tick(walk)`` is called after each folder is listed, with the result so far: the
    folder's files are the last ones in ``walk.files``, and its image (and its parent's)
    is in ``walk.folder_images``.
    """
    scandir = scandir or os.scandir
    result = Walk()
    root_st = os.stat(root)
    visited = {(root_st.st_dev, root_st.st_ino)}
    result.dir_mtimes[""] = root_st.st_mtime_ns
    stack: list[tuple[str, str]] = [(root, "")]
    linked: list[tuple[str, str]] = []  # symlinked folders, walked after every real one
    while stack or linked:
        if stack:
            abs_dir, rel_dir = stack.pop()
        else:
            abs_dir, rel_dir = linked.pop(0)
            try:
                st = os.stat(abs_dir)
            except OSError as exc:
                error(path_to_text(rel_dir), f"cannot read folder: {exc.strerror or exc}")
                continue
            key = (st.st_dev, st.st_ino)
            if key in visited:
                error(path_to_text(rel_dir), "symlink to a folder already scanned (a loop or a duplicate); not followed")
                continue
            visited.add(key)
            result.dir_mtimes[rel_dir] = st.st_mtime_ns
        try:
            with scandir(abs_dir) as it:
                entries = list(it)
        except OSError as exc:
            error(path_to_text(rel_dir) or ".", f"cannot list folder: {exc.strerror or exc}")
            result.unlisted.append(rel_dir)
            continue
        images: list[str] = []
        prefix = rel_dir + "/" if rel_dir else ""
        files = result.files
        for entry in entries:
            name = entry.name
            dot = name.rfind(".")
            ext = name[dot:].lower() if dot > 0 else ""
            try:
                if ext in AUDIO_EXTENSIONS:
                    st = entry.stat(follow_symlinks=False)
                    if statmod.S_ISREG(st.st_mode):  # the common case: one stat, nothing else
                        files.append((prefix + name, st.st_size, st.st_mtime_ns))
                        continue
                if entry.is_symlink():
                    rel = prefix + name
                    target = os.path.realpath(entry.path)
                    if not is_inside(target, root):
                        if ext in AUDIO_EXTENSIONS or os.path.isdir(entry.path):
                            error(path_to_text(rel), "symlink leads outside the library folder; not followed")
                        continue
                    try:
                        st = os.stat(entry.path)
                    except OSError:
                        error(path_to_text(rel), "broken symlink (its target does not exist)")
                        continue
                    if statmod.S_ISDIR(st.st_mode):
                        linked.append((entry.path, rel))
                    elif statmod.S_ISREG(st.st_mode):
                        if ext in AUDIO_EXTENSIONS:
                            files.append((rel, st.st_size, st.st_mtime_ns))
                        elif ext in IMAGE_EXTENSIONS:
                            images.append(name)
                    elif ext in AUDIO_EXTENSIONS or ext in IMAGE_EXTENSIONS:
                        error(path_to_text(rel), NOT_REGULAR)
                elif entry.is_dir(follow_symlinks=False):
                    rel = prefix + name
                    st = os.stat(entry.path)
                    key = (st.st_dev, st.st_ino)
                    if key in visited:  # a bind mount of an ancestor, say
                        error(path_to_text(rel), "folder already scanned (a loop); not followed")
                        continue
                    visited.add(key)
                    result.dir_mtimes[rel] = st.st_mtime_ns
                    stack.append((entry.path, rel))
                elif ext in AUDIO_EXTENSIONS or ext in IMAGE_EXTENSIONS:
                    if entry.is_file(follow_symlinks=False):  # an image (audio files were taken above)
                        images.append(name)
                    else:
                        error(path_to_text(prefix + name), NOT_REGULAR)
            except OSError as exc:
                rel = prefix + name
                error(path_to_text(rel), f"cannot read: {exc.strerror or exc}")
                if ext in AUDIO_EXTENSIONS:
                    result.unstatable.add(rel)
        if images:
            chosen = find_folder_cover(os.path.basename(abs_dir), images)
            if chosen is not None:
                try:
                    mtime = os.stat(os.path.join(abs_dir, chosen)).st_mtime_ns
                except OSError:
                    mtime = 0
                result.folder_images[rel_dir] = (chosen, mtime)
        if tick is not None:
            tick(result)
    return result


# --------------------------------------------------------------------------- scanning


class LeaseLost(Exception):
    """Another scan took the library's lease over (ours expired)."""


class _Stop(Exception):
    """The scan was cancelled."""


def load_catalogue(library_id: int) -> dict[str, tuple[int, int, int, int]]:
    """``{path: (size, mtime_ns, id, album_id)}`` of a library's tracks (one query, no model overhead)."""
    table, columns = _table(Track, ["path", "size", "mtime_ns", "id", "album", "library"])
    sql = f"SELECT {', '.join(columns[:5])} FROM {table} WHERE {columns[5]} = %s"
    catalogue: dict[str, tuple[int, int, int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [library_id])
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                break
            for path, size, mtime, pk, album in rows:
                catalogue[path] = (size, mtime, pk, album)
    return catalogue


def _table(model, fields: list[str]) -> tuple[str, list[str]]:
    qn = connection.ops.quote_name
    return qn(model._meta.db_table), [qn(model._meta.get_field(name).column) for name in fields]


def insert_rows(model, fields: list[str], rows: list[list | tuple], *, ignore_conflicts: bool = False,
                returning: list[str] | None = None) -> list[tuple]:
    """``INSERT`` plain values (ints, text, floats, None, database-ready dates), many rows per statement.

    Multi-row ``VALUES`` rather than ``executemany``: on SQLite every statement of an
    executemany is its own statement savepoint, and FTS5 flushes its pending index data at
    each one, so the search-index triggers made a row-by-row insert about six times slower.
    ``returning``: columns of the inserted rows to return (in no promised order).
    """
    if not rows:
        return []
    table, columns = _table(model, fields)
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    suffix = connection.ops.on_conflict_suffix_sql(
        [model._meta.get_field(f) for f in fields], conflict, None, None) if conflict else ""
    placeholder, driver_cursor = _driver_cursor()
    row_sql = f"({', '.join([placeholder] * len(columns))})"
    per_statement = max(1, min(500, _max_query_params() // len(columns)))
    head = f"{connection.ops.insert_statement(on_conflict=conflict)} {table} ({', '.join(columns)}) VALUES "
    tail = f" RETURNING {', '.join(_table(model, returning)[1])}" if returning else ""
    out: list[tuple] = []
    with driver_cursor as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(f"{head}{', '.join([row_sql] * len(chunk))} {suffix}".rstrip() + tail,
                           [value for row in chunk for value in row])
            if returning:
                out.extend(cursor.fetchall())
    return out


def _driver_cursor():
    """The placeholder and a cursor for the scanner's bulk statements.

    On SQLite, the driver's own cursor with ``?`` placeholders: Django's cursor rewrites
    ``%s`` to ``?`` with a regular expression over the whole statement, which for a
    500-row insert cost more than the insert itself. Same connection, same transaction.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "?", contextlib.closing(connection.connection.cursor())
    return "%s", connection.cursor()


def _max_query_params() -> int:
    """Parameters one statement may carry (Django says 999 for SQLite; the library's real limit is higher)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def update_rows(model, fields: list[str], rows: list[list | tuple]) -> None:
    """``UPDATE ... WHERE id = %s`` for rows of ``fields`` values followed by the id (one executemany;
    faster than ``bulk_update``'s CASE expressions)."""
    if not rows:
        return
    table, columns = _table(model, fields)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in columns)} WHERE {pk} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _db_now():
    return Track._meta.get_field("updated").get_db_prep_save(timezone.now(), connection)


@dataclass
class _Todo:
    rel: str  # os-level relative path
    text: str  # stored form
    size: int
    mtime_ns: int
    existing: int | None  # Track id when the path is catalogued
    old_album: int | None
    moved_from: str | None = None


# Written from a Parsed (UPDATE: these then the id; INSERT: "library" + these + "created").
TRACK_FIELDS = [
    "path", "size", "mtime_ns", "fingerprint", "format", "codec", "duration_ms", "bitrate", "sample_rate",
    "channels", "title", "sort_title", "artist_display", "album", "track_number", "track_total",
    "disc_number", "disc_total", "year", "musicbrainz_track_id", "musicbrainz_album_id",
    "musicbrainz_artist_id", "replaygain_track_gain", "replaygain_track_peak", "replaygain_album_gain",
    "replaygain_album_peak", "lyrics", "cover", "search_key", "updated",
]
TRACK_INSERT_FIELDS = ["library", *TRACK_FIELDS, "created"]
ALBUM_AGGREGATES = ["track_count", "duration_ms", "disc_count", "year", "cover"]
COUNTERS = ("files_seen", "parsed", "added", "updated", "removed", "unchanged", "errors")


class Scanner:
    """One run of one library's scan. Use ``run(scan_run)``."""

    def __init__(self, scan: ScanRun, *, workers: int | None = None, batch_size: int = BATCH_SIZE,
                 progress: Callable[[dict[str, Any]], None] | None = None,
                 scandir: Callable[[str], Any] | None = None) -> None:
        self.scan = scan
        self.library: Library = scan.library
        self.workers = default_workers() if workers is None else workers
        self.batch_size = batch_size
        self.progress = progress
        self.scandir = scandir
        self.holder = f"{_process_id()}/scan-{scan.pk}"[:100]
        self.tracker_id = None
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.moved = 0
        self.errors: list[dict[str, str]] = []
        self.phase = "walking"
        self.to_parse = 0
        self._last_report = 0.0
        self._last_check = 0.0
        self._artists: dict[str, int] = {}
        self._albums: dict[tuple[int, str], int] = {}
        self._genres: dict[str, int] = {}
        self._folder_covers: dict[str, int | None] = {}
        self._refreshed: set[int] = set()
        self.root = ""
        self.walked = Walk()
        self.catalogue: dict[str, tuple[int, int, int, int]] = {}
        self.pool: ParsePool | None = None
        self.todo: list[_Todo] = []
        self.unchanged_paths: list[str] = []  # files not to parse, and their albums
        self.unchanged_albums: list[int] = []
        self._taken = 0  # walk.files already sorted into todo / unchanged
        self._images_sent: set[str] = set()  # track folders whose cover images are queued
        self._images_queued: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------

    def run(self) -> ScanRun:
        scan = self.scan
        if scan.pk is not None:
            scan.refresh_from_db(fields=["status"])  # it may have been cancelled while queued
        if scan.status != ScanRun.QUEUED:
            return scan
        if not acquire_lease(self.library, self.holder):
            holder = Library.objects.filter(pk=self.library.pk).values_list("lease_holder", flat=True).first()
            scan.status = ScanRun.CANCELLED
            scan.finished = timezone.now()
            scan.message = f"Not run: another scan of this library is running ({holder or 'unknown'})."
            scan.save(update_fields=["status", "finished", "message"])
            return scan
        started = time.monotonic()
        outcome, message = ScanRun.FAILED, ""
        try:
            self._begin()
            try:
                self._scan()
                outcome = ScanRun.COMPLETED
                message = self._summary(time.monotonic() - started)
            except _Stop:
                outcome = ScanRun.CANCELLED
                message = f"Cancelled. {self._summary(time.monotonic() - started)}"
        except LeaseLost:
            message = "Stopped: the scan lost its lease (it stalled for longer than the lease lasts) and another scan took over."
        except Exception as exc:  # noqa: BLE001 - recorded on the run and the tracker
            if not isinstance(exc, ScanFailed):
                logger.exception("scan %s of %s failed", scan.pk, self.library)
            message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ScanFailed) else str(exc)
        except BaseException:  # Ctrl-C, the task's timeout: recorded, then passed on
            message = "Interrupted before it finished; the next scan completes it."
            raise
        finally:
            try:
                self._finish(outcome, message)
            finally:
                release_lease(self.library, self.holder)
        return scan

    def _begin(self) -> None:
        from tracker import store

        scan = self.scan
        tracker = store.get_or_create(SCAN_KIND, owner=None, key=str(self.library.pk))
        self.tracker_id = tracker.pk
        if tracker.state.get("status") in ("running", "cancelling"):
            # We hold the lease, so whoever left it running is gone.
            _dispatch(tracker.pk, "library.scan.fail", {"message": "Interrupted: the scanner stopped before finishing."})
        ScanRun.objects.filter(library=self.library, status=ScanRun.RUNNING).exclude(pk=scan.pk).update(
            status=ScanRun.FAILED, finished=timezone.now(), message="Interrupted: the scanner stopped before finishing.")
        scan.status = ScanRun.RUNNING
        scan.started = timezone.now()
        scan.save(update_fields=["status", "started"])
        _dispatch(tracker.pk, "library.scan.begin", {"scan_id": scan.pk, "trigger": _clean(scan.trigger, 100) or "manual"})
        _announce("library.scan.begin", scan)
        self._last_report = time.monotonic()

    def _finish(self, outcome: str, message: str) -> None:
        scan = self.scan
        self._store_counters()
        if self.tracker_id is not None:
            self._report(force=True)  # the final counters, while the tracker still runs
        scan.status = outcome
        scan.finished = timezone.now()
        scan.message = message
        try:
            scan.save(update_fields=["status", "finished", "message", "files_seen", "parsed", "added", "updated",
                                     "removed", "unchanged", "error_count", "errors"])
        except DatabaseError:  # the library (and its runs) was removed meanwhile
            logger.warning("scan %s could not be recorded: its library is gone", scan.pk)
            return
        if self.tracker_id is None:
            return
        if outcome == ScanRun.COMPLETED:
            message = reader_message(message, self.library)
            _dispatch(self.tracker_id, "library.scan.complete", {"message": _clean(message, 2000)} if message else {})
            _announce("library.scan.complete", scan)
        elif outcome == ScanRun.CANCELLED:
            _dispatch(self.tracker_id, "library.scan.halt", {})
            _announce("library.scan.halt", scan)
        else:
            _dispatch(self.tracker_id, "library.scan.fail",
                      {"message": _clean(reader_message(message, self.library), 2000) or "failed"})
            _announce("library.scan.fail", scan)

    def _summary(self, seconds: float) -> str:
        c = self.counters
        moved = f" ({self.moved} moved)" if self.moved else ""
        return (f"{c['files_seen']} files: {c['added']} added, {c['updated']} updated{moved}, {c['removed']} removed, "
                f"{c['unchanged']} unchanged, {c['errors']} errors in {seconds:.1f} s.")

    # -- progress, cancel, lease --------------------------------------------------------

    def _error(self, path: str, message: str) -> None:
        self.counters["errors"] += 1
        if len(self.errors) < ScanRun.MAX_ERRORS:
            self.errors.append({"path": _clean(path, 1000), "error": _clean(message, 500)})

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        if self.progress is not None:
            self.progress({"phase": self.phase, "to_parse": self.to_parse, **self.counters})
        if self.tracker_id is not None and self.scan.status == ScanRun.RUNNING:
            _dispatch(self.tracker_id, "library.scan.report", {"phase": self.phase, **self.counters})

    def _set_phase(self, phase: str) -> None:
        if self.progress is not None:  # the last word on the phase that ends, then the new one
            self.progress({"phase": self.phase, "to_parse": self.to_parse, **self.counters})
            self.phase = phase
            self.progress({"phase": self.phase, "to_parse": self.to_parse, **self.counters})
        self.phase = phase
        self._report()

    def _checkpoint(self) -> None:
        """Renew the lease and stop if a cancel was asked (at every batch)."""
        self._last_check = time.monotonic()
        if not renew_lease(self.library, self.holder):
            raise LeaseLost()
        if self._cancel_requested():
            raise _Stop()

    def _cancel_requested(self) -> bool:
        from tracker.models import Tracker

        state = Tracker.objects.filter(pk=self.tracker_id).values_list("state", flat=True).first() or {}
        return state.get("status") == "cancelling"

    def _walk_tick(self, walked: Walk) -> None:
        if len(walked.files) - self._taken >= TAKE_EVERY:
            self._take(walked)
        now = time.monotonic()
        if now - self._last_report >= REPORT_INTERVAL:
            self.counters["files_seen"] = len(walked.files)
            self._report()
        if now - self._last_check >= WALK_CHECK_INTERVAL:
            self._checkpoint()

    def _store_counters(self) -> None:
        scan = self.scan
        for name in ("files_seen", "parsed", "added", "updated", "removed", "unchanged"):
            setattr(scan, name, self.counters[name])
        scan.error_count = self.counters["errors"]
        scan.errors = list(self.errors)

    def _save_progress(self) -> None:
        self._store_counters()
        self.scan.save(update_fields=["files_seen", "parsed", "added", "updated", "removed", "unchanged",
                                      "error_count", "errors"])

    # -- the scan ----------------------------------------------------------------------

    def _scan(self) -> None:
        root = os.path.realpath(self.library.root)
        if not os.path.isdir(root):
            raise ScanFailed(f"The library folder {self.library.root} does not exist or is not a folder.")
        self.root = root
        self._last_check = time.monotonic()
        self._set_phase("walking")
        self.catalogue = catalogue = load_catalogue(self.library.pk)
        known_count = len(catalogue)
        with ParsePool(self.workers, ahead=2 * self.batch_size) as self.pool:
            # Files to parse go to the parsers as the walk finds them (``_take``); their
            # results are read once the walk is over and the vanished files are known.
            self.walked = walked = walk(root, error=self._error, tick=self._walk_tick, scandir=self.scandir)
            self._take(walked)
            self.counters["files_seen"] = len(walked.files)
            self._checkpoint()
            if not walked.files and known_count and not walked.unlisted:
                raise ScanFailed(f"The library folder {self.library.root} is empty while the catalogue has "
                                 f"{known_count} tracks (is a disk unmounted?); nothing was removed.")
            todo = self.todo
            # What is left of the catalogue vanished, unless it sits where we could not look.
            kept_prefixes = tuple(path_to_text(d) + "/" for d in walked.unlisted if d)
            keep_all = "" in walked.unlisted
            kept = {path_to_text(p) for p in walked.unstatable}
            missing = {
                pk: (path, album) for path, (_, _, pk, album) in catalogue.items()
                if not keep_all and path not in kept and not path.startswith(kept_prefixes)
            } if catalogue else {}
            by_fingerprint: dict[str, list[int]] = {}
            if missing and any(t.existing is None for t in todo):
                gone = list(missing)
                for start in range(0, len(gone), IN_CHUNK):
                    for pk, fp in Track.objects.filter(pk__in=gone[start:start + IN_CHUNK]).values_list("id", "fingerprint"):
                        by_fingerprint.setdefault(fp, []).append(pk)
            self.missing = missing
            self.by_fingerprint = by_fingerprint

            # Unchanged files in changed folders: their albums get refreshed, with their folder images.
            changed_dirs = self._changed_dirs()
            unchanged_albums: set[int] = set()
            if changed_dirs is None or changed_dirs:
                for rel, album in zip(self.unchanged_paths, self.unchanged_albums):
                    folder = rel.rpartition("/")[0]
                    if changed_dirs is None or folder in changed_dirs:
                        unchanged_albums.add(album)
                        self._send_images(folder)
            self.unchanged_paths, self.unchanged_albums = [], []

            self.to_parse = len(todo)
            self._set_phase("parsing")
            batch: list[tuple[_Todo, tuple]] = []
            images: dict[str, tuple | None] = {}  # folder -> parsed image, until the next write
            # The batch left when the parsers finish is written while they stand idle; over the
            # last batch's worth of files, quarter batches keep that tail short.
            last_stretch = len(todo) - self.batch_size
            tail_batch = max(1, self.batch_size // 4)
            n = 0
            for tag, result in self.pool.results():
                if isinstance(tag, str):  # a folder's image
                    images[tag] = result
                    continue
                batch.append((tag, result))
                self.counters["parsed"] += 1
                if len(batch) >= (self.batch_size if n < last_stretch else tail_batch):
                    self._checkpoint()
                    self._store_folder_covers(images)
                    self._write(batch)
                    batch = []
                n += 1
                self._report()
        self._store_folder_covers(images)
        if batch:
            self._checkpoint()
            self._write(batch)

        self._set_phase("cleaning")
        gone = list(self.missing)
        for start in range(0, len(gone), self.batch_size):
            self._checkpoint()
            self._delete(gone[start:start + self.batch_size])
            self._report()
        c = self.counters
        stale = unchanged_albums - self._refreshed
        if stale or self.scan.full or c["added"] or c["updated"] or c["removed"]:
            self._checkpoint()
            with transaction.atomic():
                self._refresh_albums(stale)
                if self.scan.full or c["updated"] or c["removed"]:
                    sweep_catalogue()  # a safety net: each batch already removed what it orphaned
                self._save_progress()

    def _take(self, walked: Walk) -> None:
        """Sort the files the walk has found since the last call: unchanged ones are noted,
        the others become ``todo`` and go to the parsers, after their folder images."""
        self.walked = walked
        files = walked.files
        catalogue = self.catalogue
        full = self.scan.full
        root = os.path.join(self.root, "")
        unchanged = 0
        unchanged_paths, unchanged_albums = self.unchanged_paths, self.unchanged_albums
        for i in range(self._taken, len(files)):
            rel, size, mtime = files[i]
            text = rel if rel.isascii() and "\\" not in rel else path_to_text(rel)
            known = catalogue.pop(text, None)
            if known is not None and not full and known[0] == size and known[1] == mtime:
                unchanged += 1
                unchanged_paths.append(rel)
                unchanged_albums.append(known[3])
                continue
            entry = _Todo(rel, text, size, mtime, known[2] if known else None, known[3] if known else None)
            self.todo.append(entry)
            self._send_images(rel.rpartition("/")[0])  # the walk joins with "/"
            self.pool.add((root + rel, size), entry)
        self.counters["unchanged"] += unchanged
        self._taken = len(files)

    def _send_images(self, folder: str) -> None:
        """Queue the images an album in this folder takes its cover from (once per scan)."""
        if folder in self._images_sent:
            return
        self._images_sent.add(folder)
        for cover_folder in _cover_folders(folder):
            image = self.walked.folder_images.get(cover_folder) if cover_folder not in self._images_queued else None
            if image is not None:
                self._images_queued.add(cover_folder)
                self.pool.add((os.path.join(self.root, cover_folder, image[0]), -1), cover_folder)

    def _store_folder_covers(self, images: dict[str, tuple]) -> None:
        """Rows for the folder images parsed since the last write; their folders' cover ids noted."""
        if not images:
            return
        found = {folder: result[1] for folder, result in images.items() if result[0] == "cover"}
        for folder, result in images.items():
            if result[0] != "cover":
                self._error(path_to_text(_join(folder, self.walked.folder_images[folder][0])), result[1])
        with transaction.atomic():
            ids = covers.cover_rows(found.values())
        for folder in images:
            self._folder_covers[folder] = ids.get(found[folder].sha256) if folder in found else None
        images.clear()

    def _changed_dirs(self) -> set[str] | None:
        """Folders whose listing or cover image changed since the last completed scan (None: all)."""
        if self.scan.full:
            return None
        last = (ScanRun.objects.filter(library=self.library, status=ScanRun.COMPLETED, started__isnull=False)
                .exclude(pk=self.scan.pk).order_by("-started").values_list("started", flat=True).first())
        if last is None:
            return None
        # Coarse time stamps (FAT, some network file systems): allow for their granularity.
        fine = any(mtime % 1_000_000_000 for mtime in self.walked.dir_mtimes.values())
        since = int(last.timestamp() * 1_000_000_000) - (0 if fine else MTIME_SLACK_NS)
        changed = {d for d, mtime in self.walked.dir_mtimes.items() if mtime >= since}
        changed.update(d for d, (_, mtime) in self.walked.folder_images.items() if mtime >= since)
        # A disc folder's album takes its parent folder's image.
        for d in list(self.walked.dir_mtimes):
            parent, name = os.path.split(d)
            if parent in changed and _DISC_FOLDER.match(name):
                changed.add(d)
        return changed

    # -- writing -----------------------------------------------------------------------

    def _write(self, batch: list[tuple[_Todo, tuple]]) -> None:
        good: list[tuple[_Todo, Parsed]] = []
        for entry, result in batch:
            if result[0] != "ok":
                self._error(entry.text, result[1])
                continue
            parsed = result[1]
            if entry.existing is None:
                candidates = self.by_fingerprint.get(parsed.fingerprint)
                while candidates:
                    pk = candidates.pop()
                    if pk in self.missing:
                        entry.existing = pk
                        entry.moved_from, entry.old_album = self.missing.pop(pk)
                        break
            good.append((entry, parsed))
        with transaction.atomic():
            if good:
                self._write_tracks(good)
            self._save_progress()

    def _write_tracks(self, good: list[tuple[_Todo, Parsed]]) -> None:
        artists = self._artist_ids(good)
        genres = self._genre_ids({g for _, p in good for g in p.genres})
        albums = self._album_ids(good, artists)
        cover_ids = covers.cover_rows(p.cover for _, p in good if p.cover is not None)
        now = _db_now()
        library_id = self.library.pk
        inserts: list[list] = []
        updates: list[list] = []
        links: list[tuple[_Todo, Parsed]] = []
        touched_albums: set[int] = set()
        for entry, p in good:
            album_id = albums[(artists[p.album_artist], p.album)]
            touched_albums.add(album_id)
            row = [
                entry.text, entry.size, entry.mtime_ns, p.fingerprint, p.format, p.codec, p.duration_ms, p.bitrate,
                p.sample_rate, p.channels, p.title, p.sort_title, p.artist_display, album_id, p.track_number,
                p.track_total, p.disc_number, p.disc_total, p.year, p.musicbrainz_track_id, p.musicbrainz_album_id,
                p.musicbrainz_artist_id, p.replaygain_track_gain, p.replaygain_track_peak, p.replaygain_album_gain,
                p.replaygain_album_peak, p.lyrics, cover_ids.get(p.cover.sha256) if p.cover else None, p.search_key,
                now,
            ]
            if entry.existing is None:
                inserts.append([library_id, *row, now])
            else:
                updates.append([*row, entry.existing])
                if entry.old_album is not None:
                    touched_albums.add(entry.old_album)
            links.append((entry, p))
        GenreLink = Track.genres.through
        old_artists: set[int] = set()
        old_genres: set[int] = set()
        if updates:
            changed_ids = [row[-1] for row in updates]
            old_artists.update(TrackArtist.objects.filter(track_id__in=changed_ids).values_list("artist_id", flat=True))
            old_genres.update(GenreLink.objects.filter(track_id__in=changed_ids).values_list("genre_id", flat=True))
            TrackArtist.objects.filter(track_id__in=changed_ids).delete()
            GenreLink.objects.filter(track_id__in=changed_ids).delete()
            update_rows(Track, TRACK_FIELDS, updates)
        if inserts:
            new_ids = dict(insert_rows(Track, TRACK_INSERT_FIELDS, inserts, returning=["path", "id"]))
            for entry, _ in links:
                if entry.existing is None:
                    entry.existing = new_ids[entry.text]
        artist_rows = []
        genre_rows = []
        for entry, p in links:
            for position, name in enumerate(p.artists):
                artist_rows.append((entry.existing, artists[name], position))
            for name in p.genres:
                genre_rows.append((entry.existing, genres[name]))
        insert_rows(TrackArtist, ["track", "artist", "position"], artist_rows)
        insert_rows(GenreLink, ["track", "genre"], genre_rows)
        self.counters["added"] += len(inserts)
        self.counters["updated"] += len(updates)
        self.moved += sum(1 for entry, _ in good if entry.moved_from is not None)
        self._refresh_albums(touched_albums)
        if updates:
            sweep_artists(old_artists)
            sweep_genres(old_genres)

    def _artist_ids(self, good: list[tuple[_Todo, Parsed]]) -> dict[str, int]:
        wanted: dict[str, str] = {}  # name -> MusicBrainz id for a new row
        for _, p in good:
            for i, name in enumerate(p.artists):
                if name not in self._artists and not wanted.get(name):
                    wanted[name] = p.artist_mbid if i == 0 else ""
            if p.album_artist not in self._artists and not wanted.get(p.album_artist):
                wanted[p.album_artist] = p.album_artist_mbid
        if wanted:
            missing = list(wanted)
            self._artists.update(Artist.objects.filter(name__in=missing).values_list("name", "id"))
            create = [n for n in missing if n not in self._artists]
            if create:
                now = _db_now()
                insert_rows(Artist, ["name", "sort_name", "search_key", "musicbrainz_id", "created"], [
                    (n, _clean(_sort_key(n), 500), _clean(_search_key(n), 500), wanted[n], now) for n in create
                ], ignore_conflicts=True)
                self._artists.update(Artist.objects.filter(name__in=create).values_list("name", "id"))
        return self._artists

    def _genre_ids(self, names: set[str]) -> dict[str, int]:
        missing = [n for n in names if n not in self._genres]
        if missing:
            self._genres.update(Genre.objects.filter(name__in=missing).values_list("name", "id"))
            create = [n for n in missing if n not in self._genres]
            if create:
                insert_rows(Genre, ["name"], [(n,) for n in create], ignore_conflicts=True)
                self._genres.update(Genre.objects.filter(name__in=create).values_list("name", "id"))
        return self._genres

    def _album_ids(self, good: list[tuple[_Todo, Parsed]], artists: dict[str, int]) -> dict[tuple[int, str], int]:
        wanted: dict[tuple[int, str], Parsed] = {}
        for _, p in good:
            key = (artists[p.album_artist], p.album)
            if key not in self._albums:
                wanted.setdefault(key, p)
        if wanted:
            missing = list(wanted)
            self._load_albums(missing)
            create = [k for k in missing if k not in self._albums]
            if create:
                now = _db_now()
                rows = []
                for artist_id, title in create:
                    p = wanted[(artist_id, title)]
                    rows.append((title, _clean(_sort_key(title), 500), artist_id, p.year, p.compilation, 1, 0, 0,
                                 p.musicbrainz_album_id, _clean(_search_key(title, p.album_artist), 1000), now))
                insert_rows(Album, ["title", "sort_title", "album_artist", "year", "compilation", "disc_count",
                                    "track_count", "duration_ms", "musicbrainz_id", "search_key", "created"],
                            rows, ignore_conflicts=True)
                self._load_albums(create)
        return self._albums

    def _load_albums(self, keys: list[tuple[int, str]]) -> None:
        wanted = set(keys)
        artists = sorted({artist_id for artist_id, _ in keys})
        for start in range(0, len(artists), IN_CHUNK):  # by artist: the (album_artist, title) index answers
            for pk, artist_id, title in Album.objects.filter(album_artist_id__in=artists[start:start + IN_CHUNK]).values_list(
                    "id", "album_artist_id", "title"):
                if (artist_id, title) in wanted:
                    self._albums[(artist_id, title)] = pk

    def _refresh_albums(self, ids: Iterable[int]) -> None:
        """Recompute the aggregates of these albums; delete the ones left without tracks."""
        todo = sorted({i for i in ids if i is not None})
        for start in range(0, len(todo), IN_CHUNK):
            self._refresh_some_albums(todo[start:start + IN_CHUNK])

    def _refresh_some_albums(self, ids_list: list[int]) -> None:
        ids = set(ids_list)
        if not ids:
            return
        self._refreshed |= ids
        stats = {
            row["album_id"]: row for row in Track.objects.filter(album_id__in=ids_list).order_by().values("album_id")
            .annotate(n=Count("id"), duration=Sum("duration_ms"), disc=Max("disc_number"), discs=Max("disc_total"),
                      year=Min("year"))
        }
        empty = ids - stats.keys()
        if empty:
            artists = set(Album.objects.filter(pk__in=empty).values_list("album_artist_id", flat=True))
            try:
                Album.objects.filter(pk__in=empty).exclude(Exists(Track.objects.filter(album_id=OuterRef("pk")))).delete()
            except ProtectedError:
                logger.warning("albums %s are referenced elsewhere; kept", sorted(empty))
            for key in [k for k, v in self._albums.items() if v in empty]:
                del self._albums[key]
            sweep_artists(artists)
        firsts: dict[int, tuple] = {}
        covered: dict[int, int] = {}
        rows = Track.objects.filter(album_id__in=list(stats)).values_list(
            "album_id", "disc_number", "track_number", "path", "cover_id")
        for album_id, disc, number, path, cover_id in sorted(rows, key=lambda r: (r[0], r[1] or 0, r[2] or 0, r[3])):
            firsts.setdefault(album_id, (path, cover_id))
            if cover_id is not None:
                covered.setdefault(album_id, cover_id)
        updates = []
        for album_id, row in stats.items():
            cover = self._folder_cover(firsts[album_id][0])
            updates.append([row["n"], row["duration"] or 0, max(row["disc"] or 1, row["discs"] or 1), row["year"],
                            cover if cover is not None else covered.get(album_id), album_id])
        update_rows(Album, ALBUM_AGGREGATES, updates)
        GenreLink = Album.genres.through
        GenreLink.objects.filter(album_id__in=list(stats)).delete()
        pairs = (Track.genres.through.objects.filter(track__album_id__in=list(stats)).order_by()
                 .values_list("track__album_id", "genre_id").distinct())
        insert_rows(GenreLink, ["album", "genre"], list(pairs))

    def _folder_cover(self, track_path: str) -> int | None:
        """The CoverArt id of the folder image next to this track (or in its parent, for disc folders)."""
        for folder in _cover_folders(os.path.dirname(text_to_path(track_path))):
            if folder not in self._folder_covers:  # not read by the parsers: read it here
                image = self.walked.folder_images.get(folder)
                cover_id = None
                if image is not None:
                    result = read_folder_image(os.path.join(self.root, folder, image[0]))
                    if result[0] == "cover":
                        cover_id = covers.cover_row(result[1]).pk
                    else:
                        self._error(path_to_text(_join(folder, image[0])), result[1])
                self._folder_covers[folder] = cover_id
            if self._folder_covers[folder] is not None:
                return self._folder_covers[folder]
        return None

    def _delete(self, ids: list[int]) -> None:
        with transaction.atomic():
            albums = set(Track.objects.filter(pk__in=ids).values_list("album_id", flat=True))
            artists = set(TrackArtist.objects.filter(track_id__in=ids).values_list("artist_id", flat=True))
            genres = set(Track.genres.through.objects.filter(track_id__in=ids).values_list("genre_id", flat=True))
            deleted = Track.objects.filter(pk__in=ids).delete()[1].get(Track._meta.label, 0)
            for pk in ids:
                self.missing.pop(pk, None)
            self.counters["removed"] += deleted
            self._refresh_albums(albums)
            sweep_artists(artists)
            sweep_genres(genres)
            self._save_progress()


class ScanFailed(Exception):
    """A scan cannot go on (the message says why)."""


def _cover_folders(rel_dir: str) -> tuple[str, ...]:
    """Where a track's album image may be: its folder, then the parent of a disc folder ("CD 2")."""
    parent, name = os.path.split(rel_dir)
    return (rel_dir, parent) if name and _DISC_FOLDER.match(name) else (rel_dir,)


def sweep_artists(ids: Iterable[int] | None = None) -> None:
    """Delete artists nobody refers to (no album, no track), among ``ids`` (None: all artists)."""
    query = Artist.objects.all()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        query = query.filter(pk__in=ids)
    try:
        query.exclude(Exists(Album.objects.filter(album_artist_id=OuterRef("pk")))).exclude(
            Exists(TrackArtist.objects.filter(artist_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some artists without tracks are referenced elsewhere; kept")


def sweep_genres(ids: Iterable[int] | None = None) -> None:
    """Delete genres no track or album has, among ``ids`` (None: all genres)."""
    query = Genre.objects.all()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return
        query = query.filter(pk__in=ids)
    try:
        query.exclude(Exists(Track.genres.through.objects.filter(genre_id=OuterRef("pk")))).exclude(
            Exists(Album.genres.through.objects.filter(genre_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some genres without tracks are referenced elsewhere; kept")


def sweep_catalogue() -> None:
    """Remove albums without tracks, then artists and genres nobody refers to."""
    try:
        Album.objects.exclude(Exists(Track.objects.filter(album_id=OuterRef("pk")))).delete()
    except ProtectedError:
        logger.warning("some albums without tracks are referenced elsewhere; kept")
    sweep_artists()
    sweep_genres()


# --------------------------------------------------------------------------- lease


def _process_id() -> str:
    from common.process import process_id

    return process_id()


def acquire_lease(library: Library, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    """Take the library's scan lease if it is free, expired or already ours (one conditional UPDATE)."""
    now = timezone.now()
    taken = Library.objects.filter(pk=library.pk).filter(
        Q(lease_holder="") | Q(lease_expires__isnull=True) | Q(lease_expires__lt=now) | Q(lease_holder=holder)
    ).update(lease_holder=holder, lease_expires=now + timedelta(seconds=seconds))
    return taken == 1


def renew_lease(library: Library, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    return Library.objects.filter(pk=library.pk, lease_holder=holder).update(
        lease_expires=timezone.now() + timedelta(seconds=seconds)) == 1


def release_lease(library: Library, holder: str) -> None:
    Library.objects.filter(pk=library.pk, lease_holder=holder).update(lease_holder="", lease_expires=None)


def lease_active(library: Library) -> bool:
    return Library.objects.filter(pk=library.pk, lease_expires__gte=timezone.now()).exclude(lease_holder="").exists()


# --------------------------------------------------------------------------- tracker and events


def _dispatch(tracker_id, name: str, payload: dict[str, Any]) -> None:
    """A server action on the scan tracker; a refusal is logged, never fatal to the scan."""
    from tracker import store

    from common.errors import BusError

    try:
        store.dispatch(tracker_id, name, payload, actor=None)
    except BusError as exc:  # refused (a state that does not allow it) or the tracker is gone
        logger.warning("could not dispatch %s on scan tracker %s: %s", name, tracker_id, exc.message)
    except Exception:  # noqa: BLE001
        logger.exception("could not dispatch %s on scan tracker %s", name, tracker_id)


def _announce(action: str, scan: ScanRun) -> None:
    """The staff lifecycle event of a tracker action (same mapping as the embedded log tail)."""
    from .actions import broadcast_lifecycle

    transaction.on_commit(lambda: broadcast_lifecycle(action, scan))


def run(scan: ScanRun | int, **options: Any) -> ScanRun:
    """Run a queued scan to its end and return it (status completed, cancelled or failed)."""
    if not isinstance(scan, ScanRun):
        scan = ScanRun.objects.select_related("library").get(pk=scan)  # DoesNotExist: removed meanwhile
    return Scanner(scan, **options).run()


def tracker_for(library: Library):
    from tracker import store

    return store.get_or_create(SCAN_KIND, owner=None, key=str(library.pk))


__all__ = [
    "AUDIO_EXTENSIONS", "BATCH_SIZE", "LEASE_SECONDS", "PARSE", "Parsed", "ScanFailed", "Scanner", "Walk",
    "acquire_lease", "default_workers", "fingerprint", "insert_rows", "is_inside", "lease_active", "load_catalogue",
    "ParsePool", "parse_file", "path_from_db", "path_to_db", "path_to_text", "prepare", "read_folder_image",
    "release_lease", "renew_lease", "run", "sweep_artists", "sweep_catalogue", "sweep_genres", "text_to_path",
    "track_file", "tracker_for", "update_rows", "walk",
]
