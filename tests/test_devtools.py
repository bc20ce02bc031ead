"""The development tools: every benchmark ``manage.py bench`` lists imports (the command
skips a module that fails to import), and the shared figures and frames."""
from __future__ import annotations

import importlib
import math

import pytest

from devtools.bench import BENCHMARKS
from devtools.stats import percentile
from devtools.wsclient import frame


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_module_imports(name):
    module = importlib.import_module(BENCHMARKS[name])
    assert callable(module.add_arguments) and callable(module.run)


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    assert percentile([3.0], 95) == 3.0
    assert math.isnan(percentile([], 99))


@pytest.mark.parametrize("size, header", [(5, 2), (126, 4), (70_000, 10)])
def test_frame_lengths_and_mask(size, header):
    payload = bytes(range(256)) * (size // 256 + 1)
    payload = payload[:size]
    plain = frame(0x2, payload, mask=False)
    assert plain[0] == 0x82 and len(plain) == header + size and plain[header:] == payload
    masked = frame(0x1, payload)
    key = masked[header:header + 4]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(masked[header + 4:])) == payload
