"""From a track to its file on disk, never outside its library root; opening library files.

Files are addressed by database id only. The stored path is relative to the library
root; the real path (symlinks resolved) must sit inside the real root, compared by path
components, or the file is refused.

Every library file is read through ``open_regular``: it opens without blocking and
refuses anything but a regular file (a named pipe would block ``open()`` until a writer
comes; a device could be read forever). No Django import: the tag reader uses it too.
"""
from __future__ import annotations

import errno
import io
import os
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


def stored_path_to_fs(path: str) -> str:
    """The file-system form of a stored relative path (undoes the scanner's escaping)."""
    try:
        from orchestrator.scanner import path_from_db
    except ImportError:  # pragma: no cover - the scanner defines the escaping
        return path
    return path_from_db(path)


def track_file(track: Track) -> Path:
    """The real path of a track's file; ``Forbidden`` outside the root, ``NotFound`` if gone."""
    root = os.path.realpath(track.library.root)
    relative = stored_path_to_fs(track.path)
    if os.path.isabs(relative):
        raise Forbidden("The track's file is not inside its library.")
    real = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, real]) != root or real == root:
        raise Forbidden("The track's file is not inside its library.")
    if not os.path.isfile(real):
        raise NotFound("The track's file is missing; rescan the library.")
    return Path(real)
