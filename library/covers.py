"""Cover art files: each image stored once under ``DATA_DIR/covers``, named by its content hash.

``store_cover(data, mime)`` writes the image (atomically, only if it is not there yet) to
``DATA_DIR/covers/<sha[:2]>/<sha>.<ext>`` and gets or creates its ``CoverArt`` row;
``cover_path(cover)`` is where that file is.

The scanner splits the two steps: its parser processes (which must not touch the
database) call ``write_cover_file`` and hand back a small ``CoverFile``; the main process
turns those into rows with ``cover_rows`` (in bulk) or ``cover_row``.

Width and height are read from the image header for JPEG, PNG, GIF, WebP and BMP (no
Pillow needed); they stay null for anything else.
"""
from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import CoverArt
from .tags import image_type

__all__ = [
    "CoverFile", "EXTENSIONS", "cover_dir", "cover_path", "cover_row", "cover_rows", "image_size",
    "sniff_mime", "store_cover", "write_cover_file",
]

EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/bmp": "bmp",
}
_MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


@dataclass(frozen=True)
class CoverFile:
    """A cover image written to disk, not yet in the database (picklable, small)."""

    sha256: str
    mime: str
    size: int
    width: int | None = None
    height: int | None = None


def cover_dir() -> Path:
    return Path(settings.DATA_DIR) / "covers"


def _file_for(sha256: str, mime: str) -> Path:
    return cover_dir() / sha256[:2] / f"{sha256}.{EXTENSIONS.get(mime, 'bin')}"


def cover_path(cover: CoverArt) -> Path:
    """The image file of a ``CoverArt`` row."""
    return _file_for(cover.sha256, cover.mime)


def sniff_mime(data: bytes, declared: str = "") -> str:
    """The image type from its first bytes; else the declared type (normalised); else octet-stream."""
    sniffed = image_type(data)
    if sniffed:
        return sniffed
    declared = (declared or "").strip().lower()
    declared = _MIME_ALIASES.get(declared, declared)
    return declared if declared.startswith("image/") else "application/octet-stream"


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """(width, height) from the image header, or None when unknown or malformed."""
    try:
        if mime == "image/png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
        elif mime == "image/gif":
            width, height = struct.unpack("<HH", data[6:10])
        elif mime == "image/bmp":
            width, height = struct.unpack("<ii", data[18:26])
            height = abs(height)
        elif mime == "image/webp":
            chunk = data[12:16]
            if chunk == b"VP8 ":
                width, height = (v & 0x3FFF for v in struct.unpack("<HH", data[26:30]))
            elif chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            elif chunk == b"VP8X":
                width = int.from_bytes(data[24:27], "little") + 1
                height = int.from_bytes(data[27:30], "little") + 1
            else:
                return None
        elif mime == "image/jpeg":
            return _jpeg_size(data)
        else:
            return None
    except (struct.error, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return (width, height) if width and height else None
        if marker == 0xDA or length < 2:  # start of scan: no frame header found before it
            return None
        pos += 2 + length
    return None


def write_atomically(target: Path, write: Callable[[BinaryIO], object], *, durable: bool = False) -> None:
    """``write(handle)`` into a temporary file beside ``target``, renamed into place: readers
    never see part of a file. ``durable``: fsync before the rename. The file keeps
    ``mkstemp``'s mode 0600: the data folder is private (``common.datadir``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_cover_file(data: bytes, mime: str = "", *, durable: bool = True, sha256: str = "") -> CoverFile:
    """Write the image under its content hash unless an intact copy is there; no database access.

    Written to a temporary file and renamed into place, so readers never see part of it.
    ``durable``: fsync before the rename. The scanner passes False (an fsync per new
    image would dominate a first scan): its images are copies of bytes that stay in the
    music files, and a cover file whose size is wrong is rewritten the next time the
    image is stored (a full scan re-stores every one). ``sha256``: the data's hex digest,
    when the caller has it already.
    """
    if not data:
        raise ValueError("empty image")
    mime = sniff_mime(data, mime)
    sha = sha256 or hashlib.sha256(data).hexdigest()
    target = _file_for(sha, mime)
    try:
        intact = target.stat().st_size == len(data)
    except OSError:
        intact = False
    if not intact:
        write_atomically(target, lambda handle: handle.write(data), durable=durable)
    size = image_size(data, mime)
    return CoverFile(sha, mime, len(data), *(size or (None, None)))


def _new_row(info: CoverFile) -> CoverArt:
    return CoverArt(sha256=info.sha256, mime=info.mime, size=info.size, width=info.width, height=info.height)


def cover_row(info: CoverFile) -> CoverArt:
    """Get or create the row of a written cover file."""
    existing = CoverArt.objects.filter(sha256=info.sha256).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return CoverArt.objects.create(sha256=info.sha256, mime=info.mime, size=info.size,
                                           width=info.width, height=info.height)
    except IntegrityError:  # created concurrently
        return CoverArt.objects.get(sha256=info.sha256)


def cover_rows(infos: Iterable[CoverFile]) -> dict[str, int]:
    """Get or create many rows at once: {sha256: CoverArt id}."""
    wanted = {info.sha256: info for info in infos}
    if not wanted:
        return {}
    found = dict(CoverArt.objects.filter(sha256__in=list(wanted)).values_list("sha256", "id"))
    missing = [_new_row(info) for sha, info in wanted.items() if sha not in found]
    if missing:
        CoverArt.objects.bulk_create(missing, ignore_conflicts=True)
        found.update(CoverArt.objects.filter(sha256__in=[c.sha256 for c in missing]).values_list("sha256", "id"))
    return found


def store_cover(data: bytes, mime: str) -> CoverArt:
    """Store an image once (by content hash) and return its ``CoverArt`` row."""
    return cover_row(write_cover_file(data, mime))
