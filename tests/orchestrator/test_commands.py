"""manage.py library add|list|remove and manage.py scan: output and exit statuses."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from library.models import Album, Artist, Library, ScanRun, Track

from . import data_dir, library, music  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args, out=None) -> str:
    out = out or io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_library_add_list_remove(music, tmp_path):
    root, _ = music
    text = run("library", "add", "--name", "Music", str(root), "--interval", "30")
    assert "Added library Music" in text and "every 30 min" in text
    library = Library.objects.get(name="Music")
    assert (library.root, library.scan_interval, library.enabled) == (str(root), 30, True)
    run("scan", "--library", "Music")
    listing = run("library", "list")
    assert "Music" in listing and "40 tracks" in listing and "last scan completed" in listing

    removed = run("library", "remove", "Music")
    assert "Removed library Music and its 40 tracks" in removed
    assert not Library.objects.exists() and not Track.objects.exists()
    assert not Album.objects.exists() and not Artist.objects.exists()
    assert "No libraries" in run("library", "list")


@pytest.mark.parametrize("args, message", [
    (["relative/path"], "absolute path"),
    (["/does/not/exist"], "is not a folder"),
])
def test_library_add_refuses_bad_folders(args, message):
    with pytest.raises(CommandError, match=message):
        run("library", "add", "--name", "Music", *args)


def test_library_add_refuses_duplicates_and_overlaps(music):
    root, _ = music
    run("library", "add", "--name", "Music", str(root))
    with pytest.raises(CommandError, match="exists already"):
        run("library", "add", "--name", "Music", str(root.parent))
    with pytest.raises(CommandError, match="overlaps"):
        run("library", "add", "--name", "Inside", str(next(p for p in root.iterdir() if p.is_dir())))
    with pytest.raises(CommandError, match="overlaps"):
        run("library", "add", "--name", "Outside", str(root.parent))
    with pytest.raises(CommandError, match="No library"):
        run("library", "remove", "Nope")


def test_library_remove_is_refused_while_a_scan_runs(library):
    from orchestrator.scan import lease

    lease.acquire_lease(library, "busy/scan-1")
    with pytest.raises(CommandError, match="running"):
        run("library", "remove", "Music")
    assert "Removed" in run("library", "remove", "Music", "--force")


def test_scan_prints_progress_lines_and_a_summary(library):
    text = run("scan")
    assert "Music: walking" in text and "Music: reading 0/40" in text
    assert "Music: scan" in text and "completed. 40 files: 40 added" in text
    assert Track.objects.count() == 40
    again = run("scan", "--full")
    assert "40 files: 0 added, 40 updated" in again
    assert ScanRun.objects.filter(trigger="command").count() == 2


def test_scan_draws_a_progress_bar_on_a_terminal(library):
    text = run("scan", out=Terminal())
    assert "\r" in text and "[#" in text and "100%" in text


def test_scan_exit_status_is_non_zero_on_failure(library, music, tmp_path):
    root, _ = music
    root.rename(tmp_path / "elsewhere")
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("scan", stdout=out)
    assert failure.value.returncode == 1
    assert "Not completed: Music (failed)" in str(failure.value)
    assert "does not exist" in out.getvalue()


def test_scan_exit_status_is_non_zero_when_another_scan_holds_the_lease(library):
    from orchestrator.scan import lease

    lease.acquire_lease(library, "orchestrator:1/scan-7")
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("scan", "--library", "Music", stdout=out)
    assert failure.value.returncode == 1
    assert "another scan of this library is running (orchestrator:1/scan-7)" in out.getvalue()


def test_scan_reports_file_errors_but_succeeds(library, music):
    root, _ = music
    (root / "broken.mp3").write_bytes(b"")
    text = run("scan")
    assert "1 errors" in text and "broken.mp3: empty file" in text


def test_scan_without_libraries_or_with_an_unknown_one_fails():
    with pytest.raises(CommandError, match="No enabled libraries"):
        run("scan")
    with pytest.raises(CommandError, match="No library 'Nope'"):
        run("scan", "--library", "Nope")
