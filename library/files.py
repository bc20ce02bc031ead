"""From a track to its file on disk, never outside its library root.

Files are addressed by database id only. The stored path is relative to the library
root; the real path (symlinks resolved) must sit inside the real root, compared by path
components, or the file is refused.
"""
from __future__ import annotations

import os
from pathlib import Path

from common.errors import Forbidden, NotFound

from .models import Track


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
