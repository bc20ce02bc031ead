"""The scanner on real files from the sample generator: tags, covers, incremental rescans,
changes, moves, bad files and folders, symlinks, odd names, cancel, the lease."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from mutagen.flac import FLAC

from library.models import Album, Artist, CoverArt, Genre, Library, ScanRun, Track, TrackArtist
from library.sample import TEMPLATE_DIR, make_sample_library
from library.text import search_key, sort_key
from library import files
from orchestrator import services
from orchestrator.scan import lease, parse, scanner

from . import data_dir, library, music, scan  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

DURATION_TOLERANCE_MS = 100  # encoders add priming/padding to the nominal template length


def sha(name: str) -> str:
    return hashlib.sha256((TEMPLATE_DIR / name).read_bytes()).hexdigest()


def track_at(path: str) -> Track:
    return Track.objects.select_related("album__album_artist", "cover").get(path=path)


def artists_of(track: Track) -> list[str]:
    return list(TrackArtist.objects.filter(track=track).order_by("position").values_list("artist__name", flat=True))


def snapshot() -> dict[str, tuple]:
    return {t.path: (t.pk, t.title, t.album_id, t.size) for t in Track.objects.all()}


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("during_walk", [False, True], ids=["parsed-after-walk", "parsed-during-walk"])
def test_every_format_tags_durations_and_covers_land(tmp_path, data_dir, monkeypatch, during_walk):
    root = tmp_path / "music"
    summary = make_sample_library(root, 80, seed=29)  # every format and every tag style
    assert len(summary.formats) == 9 and len({t.tag_style for t in summary.tracks}) == 6
    lib = Library.objects.create(name="All", root=str(root), scan_interval=0)
    if during_walk:
        # Found files looked at after every folder, one-file chunks: the pool starts once 16
        # files are queued, so here (as in any library of over 1024 files) folder images and
        # tracks go out while the walk goes on.
        monkeypatch.setattr(scanner, "TAKE_EVERY", 1)
        monkeypatch.setattr(scanner.ParsePool, "CHUNK", 1)
    walk_over, pool_starts = [], []
    real_walk, real_start = scanner.walk, scanner.ParsePool._start

    def noting_walk(*args, **kwargs):
        walked = real_walk(*args, **kwargs)
        walk_over.append(True)
        return walked

    def noting_start(pool):
        if pool.pool is None:
            pool_starts.append("after the walk" if walk_over else "during the walk")
        return real_start(pool)

    monkeypatch.setattr(scanner, "walk", noting_walk)
    monkeypatch.setattr(scanner.ParsePool, "_start", noting_start)
    run = scan(lib, workers=2)  # the real process pool
    assert pool_starts == ["during the walk" if during_walk else "after the walk"]
    assert run.status == ScanRun.COMPLETED, run.message
    assert (run.files_seen, run.parsed, run.added, run.error_count) == (80, 80, 80, 0)
    assert Track.objects.count() == 80

    for t in summary.tracks:
        track = track_at(t.path)
        assert track.title == t.title, t.path
        assert artists_of(track) == list(t.artists), t.path
        assert track.artist_display == ", ".join(t.artists)
        assert track.album.title == t.album
        assert track.album.album_artist.name == (t.album_artists or t.artists)[0]
        assert (track.track_number, track.track_total) == (t.track_number, t.track_total), t.path
        assert (track.disc_number, track.disc_total) == (t.disc_number, t.disc_total), t.path
        assert track.year == t.year
        assert sorted(track.genres.values_list("name", flat=True)) == sorted(t.genres), t.path
        assert track.musicbrainz_track_id == (t.musicbrainz_track_id or "")
        assert track.musicbrainz_album_id == (t.musicbrainz_album_id or "")
        assert track.replaygain_track_gain == t.replaygain_track_gain
        assert track.replaygain_album_peak == t.replaygain_album_peak
        assert track.lyrics == (t.lyrics or "")
        assert t.duration_ms <= track.duration_ms <= t.duration_ms + DURATION_TOLERANCE_MS, t.path
        assert track.size == (root / t.path).stat().st_size and track.fingerprint.startswith(f"{track.size}:")
        assert track.sort_title == sort_key(t.title)
        assert track.search_key == search_key(t.title, *t.artists, t.album)
        if t.cover:
            assert track.cover is not None and track.cover.sha256 == sha(t.cover), t.path
            assert (data_dir / "covers" / track.cover.sha256[:2]).is_dir()
        else:
            assert track.cover is None, t.path

    # Album aggregates and covers: the folder image if any, else the tracks' embedded one.
    by_album: dict[int, list] = {}
    for t in summary.tracks:
        by_album.setdefault(track_at(t.path).album_id, []).append(t)
    for album_id, tracks in by_album.items():
        album = Album.objects.get(pk=album_id)
        assert album.track_count == len(tracks)
        assert album.duration_ms == sum(track_at(t.path).duration_ms for t in tracks)
        assert album.disc_count == max([t.disc_number or 1 for t in tracks] + [t.disc_total or 1 for t in tracks])
        folder = {t.folder_cover for t in tracks} - {None}
        embedded = {t.cover for t in tracks} - {None}
        if folder:
            image = (root / folder.pop()).read_bytes()
            assert album.cover.sha256 == hashlib.sha256(image).hexdigest(), album.title
        elif embedded:
            assert album.cover.sha256 == sha(embedded.pop()), album.title
        else:
            assert album.cover is None
    # Text keys come from library.text.
    artist = Artist.objects.get(name=summary.tracks[0].artists[0])
    assert (artist.sort_name, artist.search_key) == (sort_key(artist.name), search_key(artist.name))
    # Every cover row has its file.
    from library.covers import cover_path

    assert all(cover_path(c).is_file() for c in CoverArt.objects.all())


# --------------------------------------------------------------------------- incremental


def test_rescan_without_changes_opens_no_file(library, music, monkeypatch):
    root, summary = music
    assert scan(library).status == ScanRun.COMPLETED
    before = snapshot()
    # Proof that no file is opened: every audio file is replaced by garbage of the same
    # size with its mtime put back. Opening one would record an error (or change tags).
    for t in summary.tracks:
        path = root / t.path
        st = path.stat()
        path.write_bytes(b"\x00garbage" * (st.st_size // 8) + b"x" * (st.st_size % 8))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    calls = []
    original = parse.PARSE
    monkeypatch.setattr(parse, "PARSE", lambda item: calls.append(item) or original(item))
    run = scan(library)
    assert run.status == ScanRun.COMPLETED, run.message
    assert (run.files_seen, run.unchanged, run.parsed, run.added, run.updated, run.removed) == (40, 40, 0, 0, 0, 0)
    assert run.error_count == 0 and calls == []
    assert snapshot() == before
    # The control: a full scan does open them, and notices.
    full = scan(library, full=True)
    assert full.parsed == 40 and full.error_count == 40
    assert len([path for path, size in calls if size >= 0]) == 40  # (size -1: folder images)
    assert snapshot() == before  # unreadable files keep their rows


def test_changed_added_deleted_and_moved_files(library, music):
    root, summary = music
    scan(library)
    before = snapshot()
    flac = next(t for t in summary.tracks if t.sample_format == "flac")
    audio = FLAC(root / flac.path)
    audio["title"] = ["Renamed Title"]
    audio.save()

    # Deleted: a whole album, so its album and (maybe) its artist go.
    gone_album = track_at(summary.tracks[-1].path).album
    gone = [t for t in summary.tracks if track_at(t.path).album_id == gone_album.pk]
    for t in gone:
        (root / t.path).unlink()
    # Moved: a file to another folder and a new name keeps its Track row.
    mover = next(t for t in summary.tracks if t not in gone and t is not flac)
    moved_id = before[mover.path][0]
    (root / "Moved").mkdir()
    os.rename(root / mover.path, root / "Moved" / "renamed.mp3.bak")
    target = root / "Moved" / ("renamed" + Path(mover.path).suffix)
    os.rename(root / "Moved" / "renamed.mp3.bak", target)
    # Added: a copy of a file under a new name (its original stays: not a move).
    source = next(t for t in summary.tracks if t not in gone and t is not mover)
    shutil.copy2(root / source.path, root / "Moved" / ("copy" + Path(source.path).suffix))

    run = scan(library)
    assert run.status == ScanRun.COMPLETED, run.message
    assert run.added == 1
    assert run.updated == 2  # the retagged file and the moved one
    assert run.removed == len(gone)
    assert "1 moved" in run.message
    assert run.parsed == 3

    after = snapshot()
    assert track_at(flac.path).title == "Renamed Title" and after[flac.path][0] == before[flac.path][0]
    moved_path = target.relative_to(root).as_posix()
    assert after[moved_path][0] == moved_id and mover.path not in after
    assert all(t.path not in after for t in gone)
    assert not Album.objects.filter(pk=gone_album.pk).exists()
    assert Track.objects.count() == 40 - len(gone) + 1
    # No orphans anywhere, aggregates right.
    assert not Artist.objects.filter(albums__isnull=True, trackartist__isnull=True).exists()
    assert not Genre.objects.filter(tracks__isnull=True, albums__isnull=True).exists()
    for album in Album.objects.all():
        assert album.track_count == album.tracks.count() > 0


def test_an_interrupted_scan_is_completed_by_the_next(library, music, monkeypatch):
    """A scan that dies after some batches leaves a consistent catalogue; the next finishes it."""
    original = scanner.Scanner._write
    written = []

    def dies_after_two_batches(self, batch):
        if len(written) == 2:
            raise RuntimeError("power cut")
        written.append(len(batch))
        original(self, batch)

    monkeypatch.setattr(scanner.Scanner, "_write", dies_after_two_batches)
    run = scan(library, batch_size=7)
    assert run.status == ScanRun.FAILED and "power cut" in run.message
    assert Track.objects.count() == 14
    for album in Album.objects.all():
        assert album.track_count == album.tracks.count() > 0
    monkeypatch.setattr(scanner.Scanner, "_write", original)
    second = scan(library, batch_size=7)
    assert second.status == ScanRun.COMPLETED
    assert (second.added, second.unchanged) == (26, 14)
    assert Track.objects.count() == 40
    assert not Library.objects.get(pk=library.pk).lease_holder  # released even after the failure


# --------------------------------------------------------------------------- bad input


def test_corrupt_empty_truncated_and_non_audio_files_are_recorded_and_skipped(library, music):
    root, summary = music
    (root / "Bad").mkdir()
    (root / "Bad" / "empty.mp3").write_bytes(b"")
    flac = next(t for t in summary.tracks if t.sample_format == "flac")
    (root / "Bad" / "truncated.flac").write_bytes((root / flac.path).read_bytes()[:60])
    (root / "Bad" / "noise.ogg").write_bytes(os.urandom(3000))
    (root / "Bad" / "notes.txt").write_text("not music")
    (root / "Bad" / "playlist.m3u").write_text("#EXTM3U")
    run = scan(library)
    assert run.status == ScanRun.COMPLETED
    assert run.added == 40 and run.files_seen == 43 and run.error_count == 3
    errors = {e["path"]: e["error"] for e in run.errors}
    assert set(errors) == {"Bad/empty.mp3", "Bad/truncated.flac", "Bad/noise.ogg"}
    assert errors["Bad/empty.mp3"] == "empty file"
    assert not Track.objects.filter(path__startswith="Bad/").exists()


def test_errors_are_bounded_but_counted(library, music, monkeypatch):
    root, _ = music
    (root / "Bad").mkdir()
    for i in range(12):
        (root / "Bad" / f"{i}.mp3").write_bytes(b"")
    monkeypatch.setattr(ScanRun, "MAX_ERRORS", 5)
    run = scan(library)
    assert run.error_count == 12 and len(run.errors) == 5


def test_unreadable_folder_is_recorded_and_its_tracks_kept(library, music):
    """Running as root, permissions can't make a folder unreadable: the scanner's listing
    function is replaced by one that refuses that folder (what os.scandir raises on EACCES)."""
    root, summary = music
    scan(library)
    folder = str(Path(summary.tracks[0].path).parent)
    kept = [t.path for t in summary.tracks if t.path.startswith(folder + "/")]

    def scandir(path):
        if os.path.realpath(path) == os.path.realpath(root / folder):
            raise PermissionError(13, "Permission denied", path)
        return os.scandir(path)

    run = scan(library, scandir=scandir)
    assert run.status == ScanRun.COMPLETED
    assert run.errors == [{"path": folder, "error": "cannot list folder: Permission denied"}]
    assert run.removed == 0 and set(kept) <= set(Track.objects.values_list("path", flat=True))
    # A broken symlink is recorded too.
    os.symlink(root / "nowhere", root / "dangling.mp3")
    run = scan(library)
    assert {"path": "dangling.mp3", "error": "broken symlink (its target does not exist)"} in run.errors


def test_symlink_loop_is_recorded_and_walked_once(library, music):
    root, summary = music
    artist_dir = root / summary.tracks[0].path.split("/")[0]
    os.symlink(artist_dir, artist_dir / "loop")  # a folder containing itself
    os.symlink(root, root / "again")  # the root inside itself
    run = scan(library)
    assert run.status == ScanRun.COMPLETED
    assert run.files_seen == 40 and run.added == 40
    loops = [e for e in run.errors if "already scanned" in e["error"]]
    assert {e["path"] for e in loops} == {f"{artist_dir.name}/loop", "again"}


def test_symlinks_leaving_the_root_are_not_followed(tmp_path, library, music):
    root, _ = music
    outside = tmp_path / "outside"
    summary = make_sample_library(outside, 5, seed=9)
    first = outside / summary.tracks[0].path
    os.symlink(outside, root / "elsewhere")  # a folder outside
    os.symlink(first, root / f"linked{first.suffix}")  # a file outside
    artist = music[1].tracks[0].path.split("/")[0]
    os.symlink("../../outside", root / artist / "up")  # relative, outside
    run = scan(library)
    assert run.status == ScanRun.COMPLETED
    assert run.added == 40 and run.files_seen == 40
    outside_errors = sorted(e["path"] for e in run.errors if "outside the library" in e["error"])
    assert outside_errors == sorted(["elsewhere", f"linked{first.suffix}", f"{artist}/up"])
    assert not Track.objects.exclude(path__in=[t.path for t in music[1].tracks]).exists()


def test_symlink_inside_the_root_is_followed(library, music):
    root, summary = music
    real = root / summary.tracks[0].path
    os.symlink(real, root / f"favourite{real.suffix}")
    run = scan(library)
    assert run.added == 41 and run.error_count == 0
    assert Track.objects.filter(path=f"favourite{real.suffix}").exists()


def test_names_in_any_encoding(library, music):
    root, summary = music
    source = root / summary.tracks[0].path
    raw_dir = os.fsencode(root) + b"/Caf\xe9 latin-1"  # not UTF-8
    os.mkdir(raw_dir)
    shutil.copyfile(source, raw_dir + b"/\xff\xfe odd \\ name" + os.fsencode(source.suffix))
    run = scan(library)
    assert run.status == ScanRun.COMPLETED and run.error_count == 0 and run.added == 41
    stored = Track.objects.get(path__startswith="Caf").path
    assert stored == "Caf\\xe9 latin-1/\\xff\\xfe odd \\\\ name" + source.suffix
    stored.encode("utf-8")  # storable text
    fs = files.text_to_path(stored)
    assert os.fsencode(fs) == b"Caf\xe9 latin-1/\xff\xfe odd \\ name" + os.fsencode(source.suffix)
    real = files.file_in_root(library.root, stored)
    assert real is not None and open(real, "rb").read() == source.read_bytes()
    assert scan(library).unchanged == 41  # found again under the same stored path


def _echo_chunk(items):
    return [("ok", path, os.getpid()) for path, _size in items]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_parse_pool_keeps_order_and_a_bounded_window(workers, monkeypatch):
    monkeypatch.setattr(scanner.ParsePool, "CHUNK", 4)
    with scanner.ParsePool(workers, parse=_echo_chunk, ahead=16) as pool:
        for i in range(200):
            pool.add((f"file-{i}", i), tag=i)
            # Work goes out while files are still being added, never more than the window.
            assert len(pool.pending) <= max(workers * 4, 16 // 4)
        if workers > 1:
            assert pool.pool is not None and pool.pending
        out = list(pool.results())
    assert [tag for tag, _ in out] == list(range(200))
    assert [result[1] for _, result in out] == [f"file-{i}" for i in range(200)]
    pids = {result[2] for _, result in out}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)
    assert pool.pool is None  # closed


@pytest.mark.parametrize("name", ["plain.mp3", "Ünïcödé/東京.flac", "back\\slash.mp3", "\\x41 looks escaped",
                                  os.fsdecode(b"\xe9\xff\\x"), os.fsdecode(b"a\\\xc3(")])
def test_path_text_round_trips(name):
    text = files.path_to_text(name)
    text.encode("utf-8")
    assert files.text_to_path(text) == name


def test_track_file_refuses_paths_outside_the_root(tmp_path):
    (tmp_path / "lib").mkdir()
    assert files.file_in_root(str(tmp_path / "lib"), "../etc/passwd") is None
    assert files.file_in_root(str(tmp_path / "lib"), "") is None


def test_missing_or_empty_root_fails_without_emptying_the_catalogue(library, music, tmp_path):
    root, _ = music
    scan(library)
    moved = tmp_path / "unmounted"
    os.rename(root, moved)
    run = scan(library)
    assert run.status == ScanRun.FAILED and "does not exist" in run.message
    root.mkdir()  # an empty mount point
    run = scan(library)
    assert run.status == ScanRun.FAILED and "empty" in run.message
    assert Track.objects.count() == 40


def test_scan_messages_readers_see_name_no_filesystem_path_while_the_run_keeps_it(library, music, tmp_path,
                                                                                     monkeypatch, make_user, token_for):
    """The library's scan tracker is read by every user: its messages name the library, not
    its folder, and paths inside it are relative; the ScanRun (staff only) keeps them whole."""
    from rest_framework.test import APIClient

    from tracker.models import Tracker

    root, _ = music
    os.rename(root, tmp_path / "unmounted")
    run = scan(library)
    tracker = Tracker.objects.get(kind="library.scan", key=str(library.pk))
    assert str(root) in run.message
    assert str(root) not in tracker.state["message"] and str(tmp_path) not in tracker.state["message"]
    assert tracker.state["message"] == 'The library folder "Music" does not exist or is not a folder.'
    os.rename(tmp_path / "unmounted", root)

    def fail(self):  # an unexpected error naming a file inside the library, and one outside
        raise OSError(5, "Input/output error", str(root / "Album" / "01.flac"))

    monkeypatch.setattr(scanner.Scanner, "_scan", fail)
    run = scan(library)
    tracker.refresh_from_db()
    assert str(root / "Album" / "01.flac") in run.message
    assert tracker.state["message"] == "OSError: [Errno 5] Input/output error: 'Album/01.flac'"
    monkeypatch.setattr(scanner.Scanner, "_scan", lambda self: (_ for _ in ()).throw(OSError(f"cannot read {tmp_path}/x")))
    scan(library)
    tracker.refresh_from_db()
    assert str(tmp_path) not in tracker.state["message"] and "cannot read" in tracker.state["message"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(make_user('bob'))}")
    listed = client.get("/api/v1/trackers/").content.decode()
    assert "library.scan" in listed and str(tmp_path) not in listed


# --------------------------------------------------------------------------- cancel and lease


def test_a_cancelled_scan_stops_at_the_next_batch(library, music, monkeypatch):
    parsed = []
    original = parse.PARSE

    def parse_and_cancel(item):
        if item[1] >= 0:  # an audio file (-1: a folder image)
            parsed.append(item)
        if len(parsed) == 8 and item[1] >= 0:
            assert services.scan_cancel(library)["cancelling"] is True
        return original(item)

    monkeypatch.setattr(parse, "PARSE", parse_and_cancel)
    run = scan(library, batch_size=5)
    assert run.status == ScanRun.CANCELLED and run.message.startswith("Cancelled.")
    assert Track.objects.count() == 5  # the first batch; the one in progress was not written
    state = services.scan_tracker(library).state
    assert state["status"] == "cancelled" and state["scan_id"] == run.pk
    assert not Library.objects.get(pk=library.pk).lease_holder
    monkeypatch.setattr(parse, "PARSE", original)
    assert scan(library).added == 35


def test_cancel_drops_queued_scans_and_says_when_there_is_nothing(library):
    queued = ScanRun.objects.create(library=library, trigger="api")
    result = services.scan_cancel(library)
    assert result == {"library": library.pk, "scan": None, "cancelling": False, "dropped": 1}
    queued.refresh_from_db()
    assert queued.status == ScanRun.CANCELLED
    assert scanner.run(queued).status == ScanRun.CANCELLED  # not run
    from common.errors import Conflict

    with pytest.raises(Conflict):
        services.scan_cancel(library)


def test_two_concurrent_scans_of_one_library_run_once(library, music, monkeypatch):
    started = threading.Event()
    release = threading.Event()
    original = parse.PARSE

    def slow(item):
        started.set()
        assert release.wait(10)
        return original(item)

    monkeypatch.setattr(parse, "PARSE", slow)
    first = ScanRun.objects.create(library=library, trigger="test")
    second = ScanRun.objects.create(library=library, trigger="test")
    results = {}

    def run_first():
        from django.db import connection

        try:
            results["first"] = scanner.run(first.pk, workers=1)
        finally:
            connection.close()

    thread = threading.Thread(target=run_first)
    thread.start()
    assert started.wait(10)
    results["second"] = scanner.run(second.pk, workers=1)
    release.set()
    thread.join(30)
    assert results["first"].status == ScanRun.COMPLETED
    assert results["second"].status == ScanRun.CANCELLED
    assert "another scan of this library is running" in results["second"].message
    assert Track.objects.count() == 40
    # scan_request refuses while the lease is held
    from common.errors import Conflict

    assert lease.acquire_lease(library, "someone/else")
    with pytest.raises(Conflict):
        services.scan_request(library, trigger="api")


def test_an_expired_lease_and_a_stale_tracker_are_taken_over(library, music):
    from datetime import timedelta

    from django.utils import timezone

    from tracker import store

    Library.objects.filter(pk=library.pk).update(lease_holder="crashed:1/scan-9",
                                                  lease_expires=timezone.now() - timedelta(seconds=1))
    stale = ScanRun.objects.create(library=library, trigger="test", status=ScanRun.RUNNING)
    tracker = services.scan_tracker(library)
    store.dispatch(tracker.pk, "library.scan.begin", {"scan_id": stale.pk, "trigger": "test"})
    run = scan(library)
    assert run.status == ScanRun.COMPLETED
    stale.refresh_from_db()
    assert stale.status == ScanRun.FAILED and "Interrupted" in stale.message
    assert services.scan_tracker(library).state["status"] == "completed"


def test_progress_goes_through_the_scan_tracker(library, music):
    run = scan(library)
    tracker = services.scan_tracker(library)
    names = list(tracker.actions.order_by("version").values_list("name", flat=True))
    assert names[0] == "library.scan.begin" and names[-1] == "library.scan.complete"
    assert set(names[1:-1]) == {"library.scan.report"}
    state = tracker.state
    assert state["status"] == "completed" and state["scan_id"] == run.pk and state["trigger"] == "test"
    assert (state["files_seen"], state["added"], state["parsed"]) == (40, 40, 40)


def test_a_library_removed_during_its_scan_stops_it_cleanly(library, music, monkeypatch):
    original = parse.PARSE
    seen = []

    def parse_then_remove(item):
        seen.append(item)
        if len(seen) == 10:
            services.library_remove(library.pk, force=True)  # elsewhere: another instance
        return original(item)

    monkeypatch.setattr(parse, "PARSE", parse_then_remove)
    run = scan(library, batch_size=5)
    assert run.status == ScanRun.FAILED and "lease" in run.message
    assert not Library.objects.exists() and not Track.objects.exists() and not Album.objects.exists()


def test_a_queued_scan_of_a_removed_library_is_dropped(library):
    from orchestrator import tasks

    queued = ScanRun.objects.create(library=library, trigger="api")
    services.library_remove(library)
    assert tasks.run_scan(queued.pk) == {"scan": queued.pk, "status": "gone"}


@pytest.fixture
def hang_guard():
    """Fail (instead of hanging the run) when the test blocks for over 20 s: a FIFO opened
    for reading without a writer blocks in ``open()`` until one comes."""
    import signal

    class Hung(BaseException):  # not an Exception: the scanner's catch-alls must not swallow it
        pass

    def timed_out(signum, frame):
        raise Hung("blocked for 20 s (a named pipe opened for reading?)")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


NOT_REGULAR = "not a regular file (a named pipe, socket or device); skipped"


def test_named_pipes_as_cover_and_audio_are_recorded_and_skipped(library, music, hang_guard):
    root, summary = music
    album_dir = root / Path(summary.tracks[0].path).parent
    for image in album_dir.glob("*.jpg"):
        image.unlink()
    for image in album_dir.glob("*.png"):
        image.unlink()
    os.mkfifo(album_dir / "cover.jpg")
    os.mkfifo(album_dir / "pipe.mp3")
    os.symlink(album_dir / "pipe.mp3", root / "linked-pipe.flac")
    run = scan(library)  # parsed in this process, where the guard can interrupt a blocked open
    assert run.status == ScanRun.COMPLETED, run.message
    errors = {e["path"]: e["error"] for e in run.errors}
    folder = album_dir.relative_to(root).as_posix()
    assert errors == {f"{folder}/cover.jpg": NOT_REGULAR, f"{folder}/pipe.mp3": NOT_REGULAR,
                      "linked-pipe.flac": NOT_REGULAR}
    assert run.added == 40 and Track.objects.count() == 40


def test_a_file_swapped_for_a_pipe_after_the_walk_is_never_opened_blocking(tmp_path, data_dir, hang_guard):
    """The walk saw a regular file; by the time it is read it is a FIFO: the open does not
    block and the entry is reported, not parsed."""
    pipe = tmp_path / "swapped.flac"
    os.mkfifo(pipe)
    assert parse.parse_file((str(pipe), 1000)) == parse.Unreadable("cannot read file: not a regular file")
    os.mkfifo(tmp_path / "cover.jpg")
    assert parse.parse_file((str(tmp_path / "cover.jpg"), -1)) == parse.Unreadable("cannot read the folder image: not a regular file")
