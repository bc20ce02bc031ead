"""Orchestrator tests. Shared fixtures live here (import them into a test module to use them)."""
from __future__ import annotations

from pathlib import Path

import pytest

from library.sample import SampleSummary, make_sample_library


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:
    """A fresh DATA_DIR (the cover store) for the test."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def music(tmp_path: Path, data_dir: Path) -> tuple[Path, SampleSummary]:
    """A 40-file sample library (several albums, covers embedded and in folders)."""
    root = tmp_path / "music"
    return root, make_sample_library(root, 40, seed=5)


@pytest.fixture
def library(music):
    from library.models import Library

    return Library.objects.create(name="Music", root=str(music[0]), scan_interval=0)


def scan(library, *, full: bool = False, trigger: str = "test", workers: int = 1, **options):
    """Record and run one scan in this process; returns the finished ScanRun."""
    from library.models import ScanRun
    from orchestrator.scan import scanner

    run = ScanRun.objects.create(library=library, trigger=trigger, full=full)
    return scanner.run(run, workers=workers, **options)
