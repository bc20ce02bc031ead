"""The data folder is private to the server's own account.

``DATA_DIR`` holds the SQLite database (API tokens, session keys, Subsonic passwords),
the generated secret key, cover art and resized copies. Any other local account that can
read it can sign in as anyone, so:

- ``make_private(data_dir)``, called by the settings before anything is created, sets
  the process umask to 077 and makes the folder 0700: every file and folder a server
  process (``serve``, daphne, ``runworker``, ``qcluster``, any ``manage.py`` command)
  creates afterwards is 0600 / 0700, SQLite's ``-wal`` and ``-shm`` included.
- ``tighten_at_start()``, run when the apps are ready in those same processes, removes
  group and other permissions from what an older version left readable: the folder, the
  files at its top (and the SQLite files wherever ``DATABASE_URL`` puts them) on every
  start, and the whole tree when the folder itself was open to others (once a folder is
  0700 nobody else can reach anything in it). Symbolic links are never followed. One log
  line says what was changed.

Collected static files (``STATIC_ROOT``) live outside, for a web server to read.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Iterable

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077  # nothing for group and others
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private(data_dir: Path) -> None:
    """Set the private umask and create ``data_dir`` (0700) if it is missing."""
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _tighten(path: Path | str) -> bool:
    """Remove group and other permissions from ``path`` (never through a link); True if changed."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & PRIVATE_UMASK:
        return False
    os.chmod(path, stat.S_IMODE(mode) & ~PRIVATE_UMASK)
    return True


def tighten(data_dir: Path, files: Iterable[Path | str] = ()) -> list[str]:
    """Make ``data_dir`` and ``files`` private (see the module docstring); the paths changed."""
    changed: list[str] = []
    deep = _tighten(data_dir)
    if deep:
        changed.append(str(data_dir))
        for folder, dirs, names in os.walk(data_dir):  # never follows links to folders
            for name in (*dirs, *names):
                if _tighten(os.path.join(folder, name)):
                    changed.append(os.path.join(folder, name))
    else:
        with os.scandir(data_dir) as entries:
            for entry in entries:
                if _tighten(entry.path):
                    changed.append(entry.path)
    for path in files:
        if _tighten(path):
            changed.append(str(path))
    return list(dict.fromkeys(changed))


def tighten_at_start() -> list[str]:
    """``tighten`` the configured data folder and SQLite database, logging what changed."""
    from django.conf import settings

    database = settings.DATABASES.get("default", {})
    files: list[str] = []
    if database.get("ENGINE") == "django.db.backends.sqlite3" and str(database.get("NAME", "")).startswith("/"):
        files = [f"{database['NAME']}{suffix}" for suffix in SQLITE_SUFFIXES]
    data_dir = Path(settings.DATA_DIR)
    try:
        changed = tighten(data_dir, files)
    except OSError as exc:
        logger.warning("could not make the data folder %s private: %s", data_dir, exc)
        return []
    if changed:
        shown = ", ".join(os.path.relpath(path, data_dir) for path in changed[:10])
        more = f" and {len(changed) - 10} more" if len(changed) > 10 else ""
        logger.warning("file modes in %s: %d made private (no access for group and others): %s%s",
                       data_dir, len(changed), shown, more)
    return changed
