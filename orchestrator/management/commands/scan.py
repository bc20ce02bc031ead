"""manage.py scan [--library NAME] [--full] [--workers N]

Scans in this process (not through the orchestrator), showing progress: a bar on a
terminal, a plain line every few seconds otherwise; then a summary per library. Exit
status 0 when every scan completed, 1 when any failed, was cancelled, or could not run
because another scan of that library holds its lease; 130 after Ctrl-C.
"""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import BusError
from library.models import Library, ScanRun
from orchestrator import services

PLAIN_INTERVAL = 5.0  # seconds between progress lines when not on a terminal
BAR_WIDTH = 30
SHOWN_ERRORS = 10


class Progress:
    """Renders the scanner's progress callbacks: one redrawn line on a terminal, else a line
    when a phase starts, every ``PLAIN_INTERVAL`` seconds, and the last state of a phase."""

    def __init__(self, out, tty: bool, name: str) -> None:
        self.out = out
        self.tty = tty
        self.name = name
        self.last_plain = 0.0
        self.last_phase = None
        self.unwritten: str | None = None
        self.width = 0

    def render(self, info: dict[str, Any]) -> str:
        phase = info["phase"]
        if phase == "walking":
            return f"{self.name}: walking, {info['files_seen']} audio files found"
        if phase == "parsing":
            total, done = info["to_parse"], info["parsed"]
            if self.tty and total:
                filled = int(BAR_WIDTH * done / total)
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                return f"{self.name}: [{bar}] {100 * done // total:3d}% {done}/{total} files read"
            return f"{self.name}: reading {done}/{total} changed or new files ({info['unchanged']} unchanged)"
        return f"{self.name}: cleaning up, {info['removed']} removed"

    def __call__(self, info: dict[str, Any]) -> None:
        text = self.render(info)
        if self.tty:
            pad = max(0, self.width - len(text))
            self.out.write("\r" + text + " " * pad, ending="")
            self.out.flush()
            self.width = len(text)
            return
        now = time.monotonic()
        phase = info["phase"]
        if phase != self.last_phase:
            if self.unwritten:
                self.out.write(self.unwritten)  # how the previous phase ended
            self.last_phase = phase
        elif now - self.last_plain < PLAIN_INTERVAL:
            self.unwritten = text
            return
        self.out.write(text)
        self.last_plain = now
        self.unwritten = None

    def done(self) -> None:
        if self.tty and self.width:
            self.out.write("\r" + " " * self.width + "\r", ending="")
            self.out.flush()


class Command(BaseCommand):
    help = "Scan libraries now, in this process (every enabled library, or --library NAME)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--library", help="the library's name (or id); default: every enabled library")
        parser.add_argument("--full", action="store_true", help="re-read every file, changed or not")
        parser.add_argument("--workers", type=int, default=None, help="parser processes (default: one per CPU)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["library"]:
            try:
                libraries = [services.get_library(options["library"])]
            except BusError as exc:
                raise CommandError(exc.message) from None
        else:
            libraries = list(Library.objects.filter(enabled=True).order_by("name"))
            if not libraries:
                raise CommandError("No enabled libraries. Add one with: manage.py library add --name Music /path/to/music")
        tty = self.stdout.isatty()
        failed = []
        for library in libraries:
            progress = Progress(self.stdout, tty, library.name)
            try:
                scan = services.scan_now(library, trigger="command", full=options["full"], progress=progress,
                                         workers=options["workers"])
            except KeyboardInterrupt:
                progress.done()
                raise CommandError(f"{library.name}: interrupted; the next scan completes it.", returncode=130) from None
            progress.done()
            self.summary(library, scan)
            if scan.status != ScanRun.COMPLETED:
                failed.append(f"{library.name} ({scan.status})")
        if failed:
            raise CommandError(f"Not completed: {', '.join(failed)}.", returncode=1)

    def summary(self, library, scan) -> None:
        style = {"completed": self.style.SUCCESS, "cancelled": self.style.WARNING}.get(scan.status, self.style.ERROR)
        self.stdout.write(style(f"{library.name}: scan {scan.pk} {scan.status}. {scan.message}"))
        for error in scan.errors[:SHOWN_ERRORS]:
            self.stdout.write(f"  {error['path']}: {error['error']}")
        if scan.error_count > SHOWN_ERRORS:
            self.stdout.write(f"  ... and {scan.error_count - SHOWN_ERRORS} more (see the scan in the admin).")
