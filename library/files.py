"""From a track to its file on disk, never outside its library root; opening library files.

Files are addressed by database id only. The stored path is relative to the library
root; the real path (symlinks resolved) must sit inside the real root, compared by path
components, or the file is refused (``file_in_root``, ``track_file``).

**File names in any encoding.** Stored paths are "/"-separated text. Names that are not
valid UTF-8 (``os.fsdecode`` gives lone surrogates U+DC80..U+DCFF for their undecodable
bytes, which no database text column accepts) are stored escaped: each undecodable byte
as ``\\xNN`` (two lower-case hex digits) and a literal backslash as ``\\\\``. Every other
name is stored exactly as it is on disk. ``path_to_text`` / ``text_to_path`` convert
both ways (``text_to_path`` returns the ``str`` that ``open()`` accepts).

Every library file is read through ``open_regular``: it opens without blocking and
refuses anything but a regular file (a named pipe would block ``open()`` until a writer
comes; a device could be read forever). No Django import: the tag reader uses it too.
"""
from __future__ import annotations

import errno
import io
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from common.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from .models import Track


class NotRegularFile(OSError):
    """The path names a named pipe, socket, device or folder, not a regular file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.EINVAL, "not a regular file", os.fspath(path))


def open_regular(path: str | os.PathLike[str]) -> io.BufferedReader:
    """``open(path, "rb")`` for regular files only, never blocking.

    Opened with ``O_NONBLOCK`` (a FIFO's open then returns at once), then checked with
    ``fstat`` on the open descriptor, so a file swapped after any earlier check is still
    caught. ``NotRegularFile`` (an ``OSError``) otherwise. The handle's ``name`` is the
    path, as with ``open``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        os.set_blocking(fd, True)
        raw = io.FileIO(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    raw.name = os.fspath(path)
    return io.BufferedReader(raw)


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


def is_inside(path: str, root: str) -> bool:
    """``path`` (a real path) is ``root`` or below it."""
    if path == root:
        return True
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def file_in_root(root: str, path: str) -> str | None:
    """The real file of a stored track path, or None when it resolves outside the library root."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, text_to_path(path)))
    return real if is_inside(real, real_root) and real != real_root else None


def track_file(track: Track) -> Path:
    """The real path of a track's file; ``Forbidden`` outside the root, ``NotFound`` if gone."""
    real = file_in_root(track.library.root, track.path)
    if real is None:
        raise Forbidden("The track's file is not inside its library.")
    if not os.path.isfile(real):
        raise NotFound("The track's file is missing; rescan the library.")
    return Path(real)
