"""``manage.py bench <name>``: the benchmarks of ``devtools.bench``, which print figures."""
from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

from devtools.bench import BENCHMARKS


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
