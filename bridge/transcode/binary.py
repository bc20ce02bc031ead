"""Which ffmpeg transcodes: the ``FFMPEG`` setting, else ``ffmpeg`` on ``PATH``, else the
binary the ``imageio-ffmpeg`` wheel ships. Each is run once (``-version``) before it is
used; when none runs, audio is served as the original files, the bridge logs one warning at
start (``check_at_start``) and ``/healthz`` says so in its details.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 15.0


@dataclass(frozen=True)
class Ffmpeg:
    path: str | None  # None: no ffmpeg runs here, originals are served
    source: str  # "setting", "path", "imageio-ffmpeg" or "none"
    version: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        if self.path is None:
            return {"available": False, "serving": "originals", "error": self.error}
        return {"available": True, "source": self.source, "path": self.path, "version": self.version}


_found: Ffmpeg | None = None
_lock = threading.Lock()


def _candidates():
    configured = getattr(settings, "FFMPEG", "")
    if configured:  # an explicit setting is never silently replaced by another binary
        yield "setting", configured
        return
    on_path = shutil.which("ffmpeg")
    if on_path:
        yield "path", on_path
    try:
        import imageio_ffmpeg

        yield "imageio-ffmpeg", imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 - the wheel is missing or has no binary for this platform
        logger.debug("imageio-ffmpeg gives no ffmpeg: %s", exc)


def _probe(path: str) -> str:
    """The first line of ``ffmpeg -version``; raises when it does not run."""
    done = subprocess.run([path, "-hide_banner", "-version"], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=PROBE_TIMEOUT, check=True)
    return done.stdout.decode(errors="replace").splitlines()[0].strip()


def find() -> Ffmpeg:
    """Look for a working ffmpeg now (not cached)."""
    errors = []
    for source, path in _candidates():
        try:
            return Ffmpeg(path, source, _probe(path))
        except (OSError, subprocess.SubprocessError, IndexError) as exc:
            errors.append(f"{source} {path}: {exc.__class__.__name__}: {exc}"[:200])
    return Ffmpeg(None, "none", error="; ".join(errors) or "no ffmpeg: FFMPEG is unset, none on PATH, no imageio-ffmpeg")


def ffmpeg() -> Ffmpeg:
    """The ffmpeg of this process, looked for once."""
    global _found
    if _found is None:
        with _lock:
            if _found is None:
                _found = find()
    return _found


def check_at_start() -> Ffmpeg:
    """Find ffmpeg when the server starts; one warning when there is none."""
    found = ffmpeg()
    if found.path is None:
        logger.warning("no ffmpeg can be run, so audio is served as the original files: %s", found.error)
    else:
        logger.info("transcoding with %s (%s, %s)", found.path, found.source, found.version)
    return found


def forget() -> None:
    """Look again on next use (tests that change ``FFMPEG``)."""
    global _found
    with _lock:
        _found = None
