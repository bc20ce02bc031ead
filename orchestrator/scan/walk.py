"""The walk of a library folder: ``os.scandir`` over the tree, one ``stat`` per audio file.

Only files with a known audio extension are considered. Nothing outside the library root
is read: symlinks are followed only when their real path is inside the root
(``realpath`` + ``commonpath``); folders already visited (same ``(st_dev, st_ino)``) are
skipped, which stops symlink loops (real folders are walked before symlinked ones, so the
real path wins). A folder that cannot be listed, a broken link, a symlink leading out, an
audio or image name on a named pipe, socket or device: reported through ``error`` and
skipped. Each folder's cover image is chosen by ``library.tags.find_folder_cover``.
"""
from __future__ import annotations

import os
import re
import stat as statmod
from dataclasses import dataclass, field
from typing import Any, Callable

from library.files import is_inside, path_to_text
from library.tags import find_folder_cover

NOT_REGULAR = "not a regular file (a named pipe, socket or device); skipped"

AUDIO_EXTENSIONS = frozenset({
    ".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".spx", ".m4a", ".m4b", ".mp4", ".aac", ".alac",
    ".wav", ".aif", ".aiff", ".aifc", ".wma", ".asf", ".ape", ".wv", ".mpc", ".tta", ".ofr", ".ofs",
    ".dsf", ".dff", ".ac3", ".tak",
})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
# A disc folder ("CD 2"): its album takes the parent folder's image.
DISC_FOLDER = re.compile(r"^(cd|disc|disk|part)\s*[-_.]?\s*\d+\b", re.IGNORECASE)


def cover_folders(rel_dir: str) -> tuple[str, ...]:
    """Where a track's album image may be: its folder, then the parent of a disc folder ("CD 2")."""
    parent, name = os.path.split(rel_dir)
    return (rel_dir, parent) if name and DISC_FOLDER.match(name) else (rel_dir,)


@dataclass
class Walk:
    """What the walk found (relative paths are os-level: maybe with surrogate escapes)."""

    files: list[tuple[str, int, int]] = field(default_factory=list)  # (rel os path, size, mtime_ns)
    folder_images: dict[str, tuple[str, int]] = field(default_factory=dict)  # rel dir -> (name, mtime_ns)
    dir_mtimes: dict[str, int] = field(default_factory=dict)  # rel dir -> mtime_ns
    unlisted: list[str] = field(default_factory=list)  # rel dirs that could not be listed
    unstatable: set[str] = field(default_factory=set)  # rel audio paths that could not be stat'ed


def join(rel_dir: str, name: str) -> str:
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
