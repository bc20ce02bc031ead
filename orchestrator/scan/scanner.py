"""One scan of a library (``run(scan_run)``): keeps its catalogue in step with its folder.

A scan goes through three phases, reported on the library's ``library.scan`` tracker at
most ``REPORT_INTERVAL`` apart (``events``):

1. **walking** (``walk``): one ``stat`` per audio file (and per folder). The result is
   compared with the catalogue, loaded once as ``{path: (size, mtime_ns, id, album_id)}``
   (``bulk.load_catalogue``): a file whose size and mtime are unchanged is not opened
   (unless the scan is ``full``). The others go to the parsers as the walk finds them,
   after their folder's cover image (``pool.ParsePool``; in a library of more than about
   a thousand files, parsing starts while the walk goes on).
2. **parsing** (``parse``): changed and new files are read by a pool of
   ``os.cpu_count()`` forked processes (chunks of files per task, about two batches in
   flight). Results are read once the walk is over. The main process writes
   ``BATCH_SIZE`` files per transaction (``writer.CatalogueWriter``). A new file whose
   ``fingerprint`` (size + hash of its audio properties and tags) equals that of a
   vanished file takes over that file's Track row (same id), so a move or rename keeps
   favourites, plays and playlist entries.
3. **cleaning**: tracks whose files vanished are deleted (in batches), albums left
   without tracks and artists/genres nobody refers to are removed (``sweeps``).

Each batch is atomic and the next scan's diff picks up whatever an interrupted scan did
not do, so the catalogue is consistent at every commit. Albums are recomputed when their
tracks change, and when their folder changed since the last completed scan (the folder's
or its image's mtime; ``full`` re-reads all).

Errors (a folder that cannot be listed, a corrupt, empty or truncated file, a broken
link, a symlink leading out, a file that is not a regular file; files are opened only
through ``library.files.open_regular``, so one swapped after the walk is caught too) are
recorded on the ``ScanRun`` (the first ``ScanRun.MAX_ERRORS``; ``error_count`` keeps
counting) and skipped, never fatal. The tracks under a folder that could not be listed
are kept, not deleted, and so is the row of a catalogued file that has become
unreadable. A library folder that is missing, or empty while the catalogue is not (an
unmounted disk), fails the scan instead of emptying the catalogue.

One scan per library at a time (``lease``): a scan that cannot take the lease does not
run; its ``ScanRun`` is marked ``cancelled`` with a message saying which scan holds it.
Taking a lease over also fails the stale ``running`` ScanRun and tracker it left.

Cancelling: ``library.scan.cancel`` moves the tracker to ``cancelling``; the scanner
checks at every batch (and every second while walking), stops, and dispatches
``library.scan.halt``. The staff events (``library.scan.started|completed|failed``) go
out after commit (``events.announce``).
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable

from django.db import DatabaseError, transaction
from django.utils import timezone

from library.files import path_to_text
from library.models import Library, ScanRun, Track
from library.text import clean

from . import events
from .bulk import load_catalogue
from .lease import LeaseLost, acquire_lease, holder_for, release_lease, renew_lease
from .parse import ParseResult, Unreadable
from .pool import ParsePool, default_workers
from .sweeps import sweep_catalogue
from .walk import DISC_FOLDER, Walk, cover_folders, walk
from .writer import IN_CHUNK, CatalogueWriter, Todo

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # files written per transaction
REPORT_INTERVAL = 0.5  # seconds between progress reports on the tracker (at most 2/s)
WALK_CHECK_INTERVAL = 1.0  # seconds between cancel checks / lease renewals while walking
MTIME_SLACK_NS = 2_000_000_000  # file system timestamp granularity and clock skew
TAKE_EVERY = 256  # files found by the walk between two looks at them (see Scanner._take)
COUNTERS = ("files_seen", "parsed", "added", "updated", "removed", "unchanged", "errors")


class _Stop(Exception):
    """The scan was cancelled."""


class ScanFailed(Exception):
    """A scan cannot go on (the message says why)."""


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
        self.holder = holder_for(scan.pk)
        self.tracker_id = None
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.moved = 0
        self.errors: list[dict[str, str]] = []
        self.phase = "walking"
        self.to_parse = 0
        self._last_report = 0.0
        self._last_check = 0.0
        self.root = ""
        self.walked = Walk()
        self.catalogue: dict[str, tuple[int, int, int, int]] = {}
        self.pool: ParsePool | None = None
        self.writer: CatalogueWriter | None = None  # once the walk is over
        self.todo: list[Todo] = []
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
        scan = self.scan
        tracker = events.tracker_for(self.library)
        self.tracker_id = tracker.pk
        if tracker.state.get("status") in ("running", "cancelling"):
            # We hold the lease, so whoever left it running is gone.
            events.dispatch(tracker.pk, "library.scan.fail", {"message": "Interrupted: the scanner stopped before finishing."})
        ScanRun.objects.filter(library=self.library, status=ScanRun.RUNNING).exclude(pk=scan.pk).update(
            status=ScanRun.FAILED, finished=timezone.now(), message="Interrupted: the scanner stopped before finishing.")
        scan.status = ScanRun.RUNNING
        scan.started = timezone.now()
        scan.save(update_fields=["status", "started"])
        events.dispatch(tracker.pk, "library.scan.begin", {"scan_id": scan.pk, "trigger": clean(scan.trigger, 100) or "manual"})
        events.announce("library.scan.begin", scan)
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
            message = events.reader_message(message, self.library)
            events.dispatch(self.tracker_id, "library.scan.complete", {"message": clean(message, 2000)} if message else {})
            events.announce("library.scan.complete", scan)
        elif outcome == ScanRun.CANCELLED:
            events.dispatch(self.tracker_id, "library.scan.halt", {})
            events.announce("library.scan.halt", scan)
        else:
            events.dispatch(self.tracker_id, "library.scan.fail",
                      {"message": clean(events.reader_message(message, self.library), 2000) or "failed"})
            events.announce("library.scan.fail", scan)

    def _summary(self, seconds: float) -> str:
        c = self.counters
        moved = f" ({self.moved} moved)" if self.moved else ""
        return (f"{c['files_seen']} files: {c['added']} added, {c['updated']} updated{moved}, {c['removed']} removed, "
                f"{c['unchanged']} unchanged, {c['errors']} errors in {seconds:.1f} s.")

    # -- progress, cancel, lease --------------------------------------------------------

    def _error(self, path: str, message: str) -> None:
        self.counters["errors"] += 1
        if len(self.errors) < ScanRun.MAX_ERRORS:
            self.errors.append({"path": clean(path, 1000), "error": clean(message, 500)})

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        if self.progress is not None:
            self.progress({"phase": self.phase, "to_parse": self.to_parse, **self.counters})
        if self.tracker_id is not None and self.scan.status == ScanRun.RUNNING:
            events.dispatch(self.tracker_id, "library.scan.report", {"phase": self.phase, **self.counters})

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
        return events.cancel_requested(self.tracker_id)

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
            self.writer = CatalogueWriter(self.library.pk, root, walked.folder_images, self.counters, self._error)
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
            batch: list[tuple[Todo, ParseResult]] = []
            images: dict[str, Any] = {}  # folder -> parsed image, until the next write
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
                    self.writer.store_folder_covers(images)
                    self._write(batch)
                    batch = []
                n += 1
                self._report()
        self.writer.store_folder_covers(images)
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
        stale = unchanged_albums - self.writer.refreshed
        if stale or self.scan.full or c["added"] or c["updated"] or c["removed"]:
            self._checkpoint()
            with transaction.atomic():
                self.writer.refresh_albums(stale)
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
            entry = Todo(rel, text, size, mtime, known[2] if known else None, known[3] if known else None)
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
        for cover_folder in cover_folders(folder):
            image = self.walked.folder_images.get(cover_folder) if cover_folder not in self._images_queued else None
            if image is not None:
                self._images_queued.add(cover_folder)
                self.pool.add((os.path.join(self.root, cover_folder, image[0]), -1), cover_folder)

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
            if parent in changed and DISC_FOLDER.match(name):
                changed.add(d)
        return changed

    # -- writing -----------------------------------------------------------------------

    def _write(self, batch: list[tuple[Todo, ParseResult]]) -> None:
        good = []
        for entry, parsed in batch:
            if isinstance(parsed, Unreadable):
                self._error(entry.text, parsed.reason)
                continue
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
                self.writer.write_tracks(good)
                self.moved += sum(1 for entry, _ in good if entry.moved_from is not None)
            self._save_progress()

    def _delete(self, ids: list[int]) -> None:
        with transaction.atomic():
            self.writer.delete_tracks(ids)
            for pk in ids:
                self.missing.pop(pk, None)
            self._save_progress()


def run(scan: ScanRun | int, **options: Any) -> ScanRun:
    """Run a queued scan to its end and return it (status completed, cancelled or failed)."""
    if not isinstance(scan, ScanRun):
        scan = ScanRun.objects.select_related("library").get(pk=scan)  # DoesNotExist: removed meanwhile
    return Scanner(scan, **options).run()
