"""The transcode cache and its ffmpeg processes.

Entries live in ``DATA_DIR/transcode/<key[:2]>/<key>.<ext>``; the key is a hash of the
track id, its file's size and mtime, and the profile, so a changed file is never served
from an older entry. An entry is written as ``<entry>.part-<pid>`` and renamed when ffmpeg
exits with 0, so a partial file is never taken for a finished one. Finished entries are
served like files (``bridge.files``: Range, ETag), touched on each hit, and the least
recently used are removed once the folder holds more than ``TRANSCODE_CACHE_MB``.

**Jobs.** One ffmpeg per key: a second request for a key being written joins the job and
reads the part file as it grows. A job runs on its own thread, which starts ffmpeg, copies
its output into the part file, and waits for it (no zombie). ffmpeg gets ``SIGKILL`` when
the thread that started it ends, and so when the bridge dies (``PR_SET_PDEATHSIG``, set by
``setpriv`` or in the child: no orphan after a crash), when the last
reader leaves before it is done (a client gone), and when the bridge stops (``atexit``).
At most ``TRANSCODE_MAX_PROCESSES`` run at once per bridge; a request beyond that waits up
to ``TRANSCODE_QUEUE_SECONDS`` for one to end, then gets ``Busy`` (503, ``Retry-After``).

A request with a time offset (``-ss`` before ``-i``) is not cached: any millisecond may be
asked, so such entries would rarely be read twice; its part file is removed when the job
ends (its readers keep their open file).

ffmpeg is niced once it has written ``TRANSCODE_HEAD_START_SECONDS`` of audio, so that new
streams start and the bridge answers promptly under many transcodes. ffmpeg's stderr goes
to the log at DEBUG; a failure (a corrupt source) ends its readers'
responses with an error, and a request that has received nothing yet gets ``Unplayable``.
"""
from __future__ import annotations

import atexit
import ctypes
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

from common.errors import Internal, Unavailable

from .binary import ffmpeg
from .profiles import Profile

logger = logging.getLogger(__name__)

COPY_CHUNK = 64 * 1024
FIRST_BYTES_TIMEOUT = 30.0  # a job that writes nothing for this long is killed
RETRY_AFTER_SECONDS = 5
# ffmpeg writes a whole entry as fast as it can, whatever its readers' pace. Once it has
# written TRANSCODE_HEAD_START_SECONDS of audio (default 10: what a player buffers before
# and just after it starts) it is reniced to FFMPEG_NICENESS: the rest is background work.
# With many transcodes at once, the bridge (one process among its ffmpeg children) and the
# first seconds of a new stream would otherwise get only a fair share of the CPU like each
# of them: a start took seconds (``manage.py bench transcode``).
FFMPEG_NICENESS = 10


class Busy(Unavailable):
    default_message = "Every transcoder is busy; retry shortly."
    retry_after = RETRY_AFTER_SECONDS


class Unplayable(Internal):
    default_message = "The track's file could not be transcoded (corrupt or not audio)."


class TranscodeAborted(Exception):
    """A job failed or was killed while a response was reading it."""


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "transcode"


def entry_key(track_id: int, size: int, mtime_ns: int, profile: Profile) -> str:
    return hashlib.sha256(f"{track_id}:{size}:{mtime_ns}:{profile.name}".encode()).hexdigest()[:40]


def entry_path(key: str, profile: Profile) -> Path:
    return cache_dir() / key[:2] / f"{key}.{profile.codec.extension}"


# -- processes ------------------------------------------------------------------------------

_libc = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.prctl  # noqa: B018 - Linux only
except (OSError, AttributeError):
    _libc = None

_setpriv: list[str] | None = None


def _die_with_parent_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` when it runs here (util-linux): it sets the death signal
    and execs ffmpeg, so the bridge can spawn without running Python in the child (a
    ``preexec_fn`` makes ``subprocess`` fork the whole bridge: 10-25 ms per ffmpeg, measured).
    Otherwise ``[]`` and ``_die_with_parent`` runs in the child instead."""
    global _setpriv
    if _setpriv is None:
        found = shutil.which("setpriv")
        try:
            ok = bool(found) and subprocess.run([found, "--pdeathsig", "KILL", "--", "true"], stdin=subprocess.DEVNULL,
                                                capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        _setpriv = [found, "--pdeathsig", "KILL", "--"] if ok else []
    return _setpriv


def lower_priority(pid: int) -> None:
    """``FFMPEG_NICENESS`` for an ffmpeg past its head start (where the system allows it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, FFMPEG_NICENESS)
    except (OSError, AttributeError):
        pass


def ffmpeg_command(binary: str, source: Path, profile: Profile, offset_ms: int = 0) -> list[str]:
    """ffmpeg writing ``source`` as ``profile`` to its stdout. The source is named with the
    ``file:`` protocol, so no file name is read as another protocol (``concat:``, ``http:``)."""
    seek = ["-ss", f"{offset_ms / 1000:.3f}"] if offset_ms else []
    return [binary, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", *seek,
            "-i", f"file:{source}", "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1",
            *profile.ffmpeg_output(), "pipe:1"]


class Job:
    """One ffmpeg writing one entry; readers read ``part`` up to ``size``."""

    def __init__(self, key: str, source: Path, profile: Profile, offset_ms: int, final: Path | None) -> None:
        self.key, self.source, self.profile, self.offset_ms, self.final = key, source, profile, offset_ms, final
        folder = (final.parent if final else cache_dir() / "uncached")
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=(final.name if final else "offset") + ".part-")
        self.part = Path(name)
        self._out = os.fdopen(fd, "wb", buffering=0)
        self.size = 0
        self.state = "starting"  # running, done, failed, killed
        self.error = ""
        self.readers = 0
        self.process: subprocess.Popen | None = None
        self.changed = threading.Condition()
        self.started_at = time.monotonic()

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "killed")

    def path_now(self) -> Path:
        return self.final if self.state == "done" and self.final else self.part

    def kill(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            try:
                process.kill()
            except ProcessLookupError:
                pass

    def wait_first_bytes(self, timeout: float = FIRST_BYTES_TIMEOUT) -> None:
        """Return once ffmpeg wrote something or finished well; ``Unplayable`` when it failed."""
        with self.changed:
            self.changed.wait_for(lambda: self.size > 0 or self.finished, timeout)
        if self.size == 0 and not self.finished:
            self.kill()
            raise Unplayable("The transcoder wrote nothing in time; the file may be corrupt.")
        if self.size == 0 and self.state != "done":
            raise Unplayable(f"The track's file could not be transcoded: {self.error or 'ffmpeg stopped'}.")


class TranscodeCache:
    """The jobs and finished entries of this process (one per bridge: ``transcoder()``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._slots = threading.BoundedSemaphore(max(1, int(settings.TRANSCODE_MAX_PROCESSES)))
        self._limit = max(1, int(settings.TRANSCODE_MAX_PROCESSES))

    # -- looking up ----------------------------------------------------------------------

    def finished_entry(self, key: str, profile: Profile) -> Path | None:
        """The finished entry for ``key``, touched (it is the most recently used now)."""
        path = entry_path(key, profile)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def open(self, key: str | None, source: Path, profile: Profile, offset_ms: int = 0):
        """``("hit", path)`` for a finished entry, else ``(how, job, handle)``: this caller is
        counted as a reader of the job and given the entry open for reading (``how``:
        ``"miss"`` for a new ffmpeg, ``"shared"`` for one already running). Call
        ``leave(job)`` when done reading. ``key`` None: not cached (a time offset)."""
        if key is not None:
            path = self.finished_entry(key, profile)
            if path is not None:
                return "hit", path
            with self._lock:
                job = self._jobs.get(key)
                if job is not None and not job.finished:
                    job.readers += 1
                    return "shared", job, open(job.part, "rb")
        wait = float(settings.TRANSCODE_QUEUE_SECONDS)
        if not self._slots.acquire(timeout=wait):
            raise Busy(f"All {self._limit} transcoders are busy; retry in {RETRY_AFTER_SECONDS} s.")
        try:
            with self._lock:
                if key is not None:  # another request may have started it while we waited
                    job = self._jobs.get(key)
                    if job is not None and not job.finished:
                        self._slots.release()
                        job.readers += 1
                        return "shared", job, open(job.part, "rb")
                    path = self.finished_entry(key, profile)
                    if path is not None:
                        self._slots.release()
                        return "hit", path
                job = Job(key or f"offset-{time.monotonic_ns()}", source, profile, offset_ms,
                          entry_path(key, profile) if key else None)
                job.readers = 1
                handle = open(job.part, "rb")
                self._jobs[job.key] = job
        except BaseException:
            self._slots.release()
            raise
        threading.Thread(target=self._run, args=(job,), name=f"ffmpeg-{job.key[:8]}", daemon=True).start()
        return "miss", job, handle

    def leave(self, job: Job) -> None:
        """A reader is done (or gone): the last one to leave an unfinished job stops ffmpeg."""
        with self._lock:
            job.readers -= 1
            orphaned = job.readers <= 0 and not job.finished
        if orphaned:
            logger.debug("no reader left for %s: stopping ffmpeg", job.key)
            job.kill()

    def running(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if not job.finished]

    # -- a job's thread ------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        binary = ffmpeg().path
        log = tempfile.TemporaryFile()
        try:
            prefix = _die_with_parent_prefix()
            try:
                job.process = subprocess.Popen(
                    [*prefix, *ffmpeg_command(binary, job.source, job.profile, job.offset_ms)], stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=log, bufsize=0,
                    preexec_fn=_die_with_parent if _libc and not prefix else None)
            except OSError as exc:
                self._end(job, "failed", f"ffmpeg could not start: {exc}")
                return
            head_start: int | None = int(job.profile.bitrate * 1000 / 8 * float(settings.TRANSCODE_HEAD_START_SECONDS))
            if head_start <= 0:
                lower_priority(job.process.pid)
                head_start = None
            with job.changed:
                if job.state == "starting":
                    job.state = "running"
            if job.readers <= 0:
                job.kill()
            stdout = job.process.stdout
            while True:
                chunk = stdout.read(COPY_CHUNK)
                if not chunk:
                    break
                job._out.write(chunk)
                with job.changed:
                    job.size += len(chunk)
                    job.changed.notify_all()
                if head_start is not None and job.size >= head_start:
                    head_start = None
                    lower_priority(job.process.pid)
            code = job.process.wait()
            stdout.close()
            log.seek(0)
            stderr = log.read().decode(errors="replace").strip()
            if stderr:
                logger.debug("ffmpeg for %s (%s): %s", job.source.name, job.profile.name, stderr[-4000:])
            if code == 0:
                self._end(job, "done", "")
            else:
                killed = code == -signal.SIGKILL
                reason = stderr.splitlines()[-1] if stderr else f"exit status {code}"
                self._end(job, "killed" if killed else "failed", reason[:300])
                if not killed:
                    logger.warning("ffmpeg failed on track file %s (%s): %s", job.source.name, job.profile.name, reason[:300])
        except BaseException as exc:  # noqa: BLE001 - never leave a process or a slot behind
            job.kill()
            if job.process is not None:
                job.process.wait()
            self._end(job, "failed", f"{exc.__class__.__name__}: {exc}")
        finally:
            log.close()

    def _end(self, job: Job, state: str, error: str) -> None:
        """Publish the entry (or remove the part file), make room, then tell the readers."""
        job._out.close()
        with self._lock:
            if state == "done" and job.final is not None:
                os.replace(job.part, job.final)  # atomic: complete or absent
            else:
                job.part.unlink(missing_ok=True)  # readers keep their open file
            self._jobs.pop(job.key, None)
        if state == "done" and job.final is not None:
            self.evict()
        with job.changed:
            job.state, job.error = state, error
            job.changed.notify_all()
        self._slots.release()

    # -- bounds --------------------------------------------------------------------------

    def evict(self) -> int:
        """Remove the least recently used finished entries until the folder holds at most
        ``TRANSCODE_CACHE_MB``; returns how many were removed."""
        limit = float(settings.TRANSCODE_CACHE_MB) * 1024 * 1024
        entries = []
        total = 0
        root = cache_dir()
        if not root.is_dir():
            return 0
        for folder in root.iterdir():
            if not folder.is_dir() or folder.name == "uncached":
                continue
            for path in folder.iterdir():
                if ".part-" in path.name:
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                entries.append((stat.st_mtime_ns, stat.st_size, path))
                total += stat.st_size
        removed = 0
        for _, size, path in sorted(entries):
            if total <= limit:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed

    def stop_all(self) -> None:
        """Kill every running ffmpeg and wait for its thread to reap it (the bridge stops)."""
        for job in self.running():
            job.kill()
            if job.process is not None:
                try:
                    job.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass


_cache: TranscodeCache | None = None
_cache_lock = threading.Lock()


def transcoder() -> TranscodeCache:
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = TranscodeCache()
                atexit.register(_cache.stop_all)
    return _cache


def forget() -> None:
    """A new cache object on next use (tests that change the limits); stops the old one's jobs."""
    global _cache
    with _cache_lock:
        if _cache is not None:
            _cache.stop_all()
        _cache = None


STALE_PART_SECONDS = 24 * 3600


def clear_stale_parts() -> None:
    """Remove part files over a day old: left by a bridge that was killed (a running job's
    part file is written to continuously, so it is never that old)."""
    root = cache_dir()
    if root.is_dir():
        cutoff = time.time() - STALE_PART_SECONDS
        for path in root.glob("*/*.part-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                pass
