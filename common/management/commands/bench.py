"""``manage.py bench <name>``: benchmarks that print figures.

Each benchmark is a module with ``add_arguments(parser)`` and ``run(options, out)``,
listed in ``BENCHMARKS``. They measure a baseline in the same run and print ratios
against it, since the machine they run on is noisy.
"""
from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

BENCHMARKS = {
    "trackers": "tracker.bench",
    "scan": "orchestrator.bench",
    "api": "bridge.api.bench",
    "fanout": "bridge.bench",
    "rpc": "bridge.bench",
    "subsonic-auth": "bridge.subsonic.bench",
    "streams": "bridge.api.stream_bench",
    "handler": "mediaproject.handler_bench",
}


class Command(BaseCommand):
    help = "Run a benchmark and print its figures: " + ", ".join(BENCHMARKS)

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="benchmark", required=True)
        for name, module_name in BENCHMARKS.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            sub = subparsers.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else name)
            module.add_arguments(sub)

    def handle(self, *args, **options):
        module = importlib.import_module(BENCHMARKS[options["benchmark"]])
        module.run(options, self.stdout)
