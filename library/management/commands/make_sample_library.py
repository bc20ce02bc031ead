"""manage.py make_sample_library DIR --count N --seed S [--formats mp3,flac,...]"""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.sample import SAMPLE_FORMATS, make_sample_library


class Command(BaseCommand):
    help = (
        "Write a deterministic library of tiny, real, tagged audio files into DIR "
        "(the same --count/--seed/--formats always give identical files). DIR may exist; "
        "existing files are never overwritten."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", help="destination directory (created if missing)")
        parser.add_argument("--count", type=int, default=200, help="number of audio files (default 200)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--formats",
            default=None,
            help=f"comma-separated subset of: {','.join(SAMPLE_FORMATS)} "
            "(m4a = AAC, alac = ALAC in .m4a; default all)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        formats = options["formats"].split(",") if options["formats"] else None
        if options["count"] < 0:
            raise CommandError("--count must be >= 0")
        started = time.monotonic()
        try:
            summary = make_sample_library(options["dir"], options["count"], options["seed"], formats=formats)
        except (ValueError, FileExistsError) as e:
            raise CommandError(str(e)) from e
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(f"  took {time.monotonic() - started:.1f}s")
