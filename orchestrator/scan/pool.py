"""The fork pool of parser processes (``ParsePool``)."""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterator

from . import parse as parsing


def default_workers() -> int:
    return os.cpu_count() or 1


class ParsePool:
    """``parse.PARSE`` over files handed in one by one, by ``workers`` forked processes; results in order.

    ``add(item, tag)`` queues a file. Once enough are queued to fill every process's
    chunks (so from a large library, while it is still being walked), whole chunks go
    out at once, up to about ``ahead`` files in flight. ``results()`` yields every
    ``(tag, result)`` in the order added, keeping the window full: the parsers keep going
    while the caller writes a batch, and memory stays bounded however many files there
    are. ``workers`` <= 1 parses in this process, in ``results()``. ``close()`` (or
    leaving the ``with`` block) stops the processes, also on cancel or error.
    """

    CHUNK = 64

    def __init__(self, workers: int | None = None, parse: Callable[[list], list] | None = None,
                 ahead: int = 2000) -> None:  # two of the scan's batches
        self.workers = default_workers() if workers is None else workers
        self.parse = parse or parsing.parse_chunk
        self.ahead = ahead
        self.queued: deque[tuple[Any, tuple[str, int]]] = deque()  # (tag, item)
        self.pending: deque[tuple[list, Any]] = deque()  # (tags, future of the chunk's results)
        self.chunk = self.CHUNK
        self.pool: ProcessPoolExecutor | None = None
        self._daemonic = False
        # Queued files that start the processes before ``results()`` (enough for full chunks).
        self._early = self.workers * 8 * self.CHUNK if self.workers > 1 else float("inf")
        parsing.forget_stored_covers()

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def add(self, item: tuple[str, int], tag: Any = None) -> None:
        self.queued.append((tag, item))
        if len(self.queued) >= self._early and len(self.pending) < self._in_flight():
            self._submit()

    def results(self) -> Iterator[tuple[Any, parsing.ParseResult]]:
        if self.workers <= 1:
            while self.queued:
                tag, item = self.queued.popleft()
                yield tag, self.parse([item])[0]
            return
        if self.pool is None:  # a small library: chunks sized so every process gets some
            self.chunk = max(1, min(self.CHUNK, len(self.queued) // (self.workers * 8) or 1))
        else:
            gc.freeze()  # what was made since the pool started (the queue, say) stays put too
        while self.queued or self.pending:
            self._submit(final=True)
            tags, future = self.pending.popleft()
            yield from zip(tags, future.result())

    def _in_flight(self) -> int:
        """Chunks out at once: about ``ahead`` files, at least 4 chunks per process."""
        return max(self.workers * 4, self.ahead // self.chunk)

    def _submit(self, final: bool = False) -> None:
        in_flight = self._in_flight()
        while len(self.pending) < in_flight and (len(self.queued) >= self.chunk or (final and self.queued)):
            work = [self.queued.popleft() for _ in range(min(self.chunk, len(self.queued)))]
            self.pending.append(([tag for tag, _ in work], self._start().submit(self.parse, [i for _, i in work])))

    def _start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # django-q2 runs tasks in daemonic processes (unless Q_CLUSTER["daemonize_workers"]
            # is False), and multiprocessing refuses children to those; the pool is shut down
            # before this process goes on, so it may have them.
            current = multiprocessing.current_process()
            self._daemonic = current.daemon
            if self._daemonic:
                current.daemon = False
            # The forked parsers share this process's objects copy-on-write; frozen, the garbage
            # collector (theirs and ours) skips them instead of touching, and so copying, every page.
            gc.freeze()
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("fork"))
        return self.pool

    def close(self) -> None:
        self.queued.clear()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            gc.unfreeze()
            if self._daemonic:
                multiprocessing.current_process().daemon = True
