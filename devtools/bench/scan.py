"""Scan benchmark: full-scan rate against a bare parallel parse, unchanged rescan against a bare walk.

``manage.py bench scan --files N`` writes a sample library of N files into a temporary
folder (``library.sample.make_sample_library``), uses a temporary SQLite database and
cover store (or, with ``--configured-db``, the configured database), and prints in one
run:

- the full scan's rate (files/s) and the rate of a bare parallel ``read_tags`` of the same
  files with the same number of processes and chunking; their ratio (goal >= 0.7). Each
  is run ``--repeat`` times, alternated (every full scan from an empty catalogue and
  cover store), and the best is shown, with the CPU time of the main process and of the
  parser processes;
- an unchanged rescan's time and a bare ``os.walk`` + ``os.stat`` of the tree; their
  ratio (goal <= 2); best of three each;
- the peak RSS of this process (``resource.getrusage``; the sample library is written by
  a child process, so this is the scan's own) and of the largest parser process (noted
  by the parsers themselves), during the first full scan.
"""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def add_arguments(parser) -> None:
    parser.add_argument("--files", type=int, default=10_000, help="sample files (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="sample library seed (default 1)")
    parser.add_argument("--workers", type=int, default=None, help="parser processes (default: one per CPU)")
    parser.add_argument("--configured-db", action="store_true",
                        help="use the configured database instead of a temporary SQLite file (adds a library there)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="full scans and bare parses to run, alternated; the best of each is shown (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")


def _bare_read(path: str) -> bool:
    from library.tags import UnreadableFile, read_tags

    try:
        read_tags(path)
    except UnreadableFile:
        return False
    return True


def _bare_parse(paths: list[str], workers: int) -> float:
    chunk = max(1, min(64, len(paths) // (workers * 8) or 1))
    started = time.perf_counter()
    if workers <= 1:
        for path in paths:
            _bare_read(path)
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for _ in pool.map(_bare_read, paths, chunksize=chunk):
                pass
    return time.perf_counter() - started


@dataclass(frozen=True)
class _Sample:
    files: int
    albums: int
    paths: list[str]


def _sample_child(conn, root: Path, count: int, seed: int) -> None:
    from library.sample import make_sample_library

    summary = make_sample_library(root, count, seed)
    conn.send(_Sample(summary.files, summary.albums, [t.path for t in summary.tracks]))
    conn.close()


def _make_sample_elsewhere(root: Path, count: int, seed: int) -> _Sample:
    """The sample library, written by a child process: the generator's plan (every track's
    expected tags) would otherwise stay in this process and count in its peak RSS."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_sample_child, args=(sender, root, count, seed))
    child.start()
    sender.close()
    try:
        sample = receiver.recv()
    except EOFError:
        raise RuntimeError("the sample library could not be written (see the error above)") from None
    finally:
        child.join()
    return sample


def _walk_and_stat(root: str) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.stat(os.path.join(folder, name))
            count += 1
    return time.perf_counter() - started, count


class _ParseNotingPeak:
    """``parse.PARSE`` that also keeps the largest peak RSS (KiB) of the parser processes."""

    def __init__(self, parse) -> None:
        self.parse = parse
        self.peak = multiprocessing.get_context("fork").Value("d", 0.0, lock=False)

    def __call__(self, item):
        result = self.parse(item)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if rss > self.peak.value:  # a lost race only understates by one file's growth
            self.peak.value = rss
        return result


def _maxrss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _use_temporary_database(tmp: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    db = connections["default"]
    db.settings_dict.update({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "bench.sqlite3")})
    db.settings_dict.setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"})
    settings.DATABASES["default"] = db.settings_dict
    settings.DATA_DIR = tmp / "data"
    settings.DATA_DIR.mkdir()
    call_command("migrate", verbosity=0, interactive=False)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run(options: dict[str, Any], out) -> None:
    from library.models import Library, ScanRun
    from orchestrator import services
    from orchestrator.scan import parse, pool, scanner

    count = options["files"]
    repeat = max(1, options["repeat"])
    workers = options["workers"] or pool.default_workers()
    tmp = Path(tempfile.mkdtemp(prefix="scan-bench-"))
    try:
        if not options["configured_db"]:
            _use_temporary_database(tmp)
        from django.conf import settings

        root = tmp / "music"
        started = time.perf_counter()
        summary = _make_sample_elsewhere(root, count, options["seed"])
        os.sync()  # the sample's dirty pages go out now, not during the measurements
        out.write(f"sample library: {summary.files} files, {summary.albums} albums in {root} "
                  f"({time.perf_counter() - started:.1f} s to write); {workers} parser processes; "
                  f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        rss_before = _maxrss_mib(resource.RUSAGE_SELF)
        paths = [os.path.join(str(root), path) for path in summary.paths]
        name = f"bench-{os.getpid()}"

        def full_scan() -> tuple[float, float, float, ScanRun]:
            Library.objects.filter(name=name).exists() and services.library_remove(name, force=True)
            shutil.rmtree(Path(settings.DATA_DIR) / "covers", ignore_errors=True)
            library = Library.objects.create(name=name, root=str(root), scan_interval=0)
            run_ = ScanRun.objects.create(library=library, trigger="bench")
            cpu_self, cpu_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            done = scanner.run(run_, workers=workers)
            seconds = time.perf_counter() - t0
            if done.status != ScanRun.COMPLETED or done.added != summary.files:
                out.write(f"the full scan did not complete as expected: {done.status} {done.message}")
            return (seconds, _cpu(resource.RUSAGE_SELF) - cpu_self, _cpu(resource.RUSAGE_CHILDREN) - cpu_children,
                    done)

        def bare() -> tuple[float, float]:
            cpu_children = _cpu(resource.RUSAGE_CHILDREN)
            seconds = _bare_parse(paths, workers)
            return seconds, _cpu(resource.RUSAGE_CHILDREN) - cpu_children

        noting, original = _ParseNotingPeak(parse.PARSE), parse.PARSE
        parse.PARSE = noting
        try:
            scans, bares = [full_scan()], []
        finally:
            parse.PARSE = original
        rss_self = _maxrss_mib(resource.RUSAGE_SELF)
        rss_children = noting.peak.value / 1024
        bares.append(bare())
        for _ in range(repeat - 1):  # alternated, so load from elsewhere hits both alike
            scans.append(full_scan())
            bares.append(bare())
        full_time, main_cpu, parser_cpu, full_run = min(scans, key=lambda r: r[0])
        bare_time, bare_cpu = min(bares)

        library = Library.objects.get(name=name)

        def rescan() -> float:
            run_ = ScanRun.objects.create(library=library, trigger="bench")
            t0 = time.perf_counter()
            done = scanner.run(run_, workers=workers)
            seconds = time.perf_counter() - t0
            if done.parsed or done.unchanged != summary.files:
                out.write(f"the rescan was not a no-op: {done.message}")
            return seconds

        rescans, walks = [], []
        for _ in range(3):
            rescans.append(rescan())
            walks.append(_walk_and_stat(str(root)))
        rescan_time = min(rescans)
        walk_time = min(seconds for seconds, _ in walks)

        scan_rate = summary.files / full_time
        bare_rate = summary.files / bare_time
        best = f"best of {repeat}" if repeat > 1 else "one run"
        lines = [
            f"full scan:            {full_time:7.2f} s  {scan_rate:8.0f} files/s  ({best}; {full_run.message})",
            f"  CPU:                main process {main_cpu:.2f} s, parser processes {parser_cpu:.2f} s",
            f"bare parallel parse:  {bare_time:7.2f} s  {bare_rate:8.0f} files/s  "
            f"(read_tags, {workers} processes, {best}; CPU {bare_cpu:.2f} s)",
            f"  scan / bare parse:  {scan_rate / bare_rate:.2f}  (goal >= 0.7)",
            f"unchanged rescan:     {rescan_time:7.3f} s  (best of 3)",
            f"bare walk + stat:     {walk_time:7.3f} s  (os.walk + os.stat of {walks[0][1]} files, best of 3)",
            f"  rescan / walk:      {rescan_time / walk_time:.2f}x  (goal <= 2x)",
            f"peak RSS:             {rss_self:7.1f} MiB this process ({rss_before:.1f} MiB before the scan), "
            f"{rss_children:.1f} MiB largest parser process (first full scan)",
        ]
        for line in lines:
            out.write(line)
        if options["configured_db"]:
            services.library_remove(library, force=True)
    finally:
        if options["keep"]:
            out.write(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
