"""The sample-library generator, checked end to end through read_tags on the files it writes."""
from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from library.sample import (
    COVER_TEMPLATES, SAMPLE_FORMATS, TAG_FIELDS, TEMPLATE_DIR, SampleSummary, SampleTrack, make_sample_library,
)
from library.tags import find_folder_cover, read_tags

# format key -> (TrackTags.format, codec, sample rate) the templates were encoded with
EXPECTED_TECH = {
    "mp3": ("mp3", "mp3", 22050), "flac": ("flac", "flac", 8000), "ogg": ("ogg", "vorbis", 22050),
    "opus": ("opus", "opus", 48000), "m4a": ("m4a", "aac", 22050), "alac": ("m4a", "alac", 8000),
    "wav": ("wav", "pcm", 8000), "aiff": ("aiff", "pcm", 8000), "wma": ("wma", "wmav2", 22050),
}
# Encoders add priming/padding (LAME ~70 ms, AAC 1024 samples, WMA ~30 ms) on top of the nominal length.
DURATION_TOLERANCE_MS = 100


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_reads_back(root: Path, track: SampleTrack) -> None:
    tags = read_tags(root / track.path)
    for name in TAG_FIELDS:
        assert getattr(tags, name) == getattr(track, name), f"{track.path} ({track.tag_style}): {name}"
    if track.cover:
        assert tags.cover is not None, track.path
        assert tags.cover.data == (TEMPLATE_DIR / track.cover).read_bytes(), track.path
        assert tags.cover.mime == ("image/png" if track.cover.endswith(".png") else "image/jpeg")
    else:
        assert tags.cover is None, track.path
    fmt, codec, rate = EXPECTED_TECH[track.sample_format]
    assert (tags.format, tags.codec, tags.sample_rate) == (fmt, codec, rate), track.path
    assert abs(tags.duration_ms - track.duration_ms) <= DURATION_TOLERANCE_MS, (track.path, tags.duration_ms)
    assert tags.bitrate and tags.bitrate > 0
    assert tags.channels and tags.channels >= 1


@pytest.mark.parametrize("sample_format", list(SAMPLE_FORMATS))
def test_every_format_round_trips(tmp_path: Path, sample_format: str) -> None:
    summary = make_sample_library(tmp_path, 40, seed=11, formats=[sample_format])
    assert summary.files == 40 and summary.formats == {sample_format: 40}
    files = [p for p in tmp_path.rglob(f"*.{SAMPLE_FORMATS[sample_format][0]}")]
    assert len(files) == 40
    for track in summary.tracks:
        assert_reads_back(tmp_path, track)
    assert {t.duration_ms for t in summary.tracks} == {1000, 1500}


def test_mp3_tag_styles_alternate(tmp_path: Path) -> None:
    summary = make_sample_library(tmp_path, 40, seed=11, formats=["mp3"])
    styles = Counter(t.tag_style for t in summary.tracks)
    assert styles["id3v1"] >= 2 and styles["id3v2.3"] >= 10 and styles["id3v2.4"] >= 10


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    root = tmp_path_factory.mktemp("mixed")
    return root, make_sample_library(root, 1500, seed=3)


def test_mixed_library_reads_back_exactly(mixed: tuple[Path, SampleSummary]) -> None:
    root, summary = mixed
    assert summary.files == 1500 == len(summary.tracks)
    assert sum(summary.formats.values()) == 1500 and set(summary.formats) == set(SAMPLE_FORMATS)
    for track in summary.tracks:
        assert_reads_back(root, track)


def test_mixed_library_has_the_awkward_cases(mixed: tuple[Path, SampleSummary]) -> None:
    root, summary = mixed
    tracks = summary.tracks
    names = {a for t in tracks for a in t.artists}
    assert {"Björk-like", "Sigur Rós-like", "坂本", "Мумий Тролль-like", "AC/DC-like"} <= names
    assert any(not n.isascii() for n in names) and any(not t.path.isascii() for t in tracks)
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in n) for n in names)  # Cyrillic
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)  # CJK
    assert any(len(t.artists) > 1 for t in tracks) and any(len(t.genres) > 1 for t in tracks)
    various = [t for t in tracks if t.album_artists == ("Various Artists",)]
    assert various and all(t.compilation for t in various) and len({t.artists for t in various}) > 3
    assert {t.tag_style for t in tracks} == {"id3v1", "id3v2.3", "id3v2.4", "vorbis", "mp4", "asf"}
    assert any(t.disc_total and t.disc_total > 1 for t in tracks)
    assert any(t.track_total is None for t in tracks) and any(t.track_total for t in tracks)
    assert any(t.lyrics for t in tracks) and any(t.replaygain_track_gain is not None for t in tracks)
    assert any(t.musicbrainz_track_id for t in tracks) and any(not t.musicbrainz_track_id for t in tracks)
    assert any(t.cover for t in tracks) and any(t.folder_cover for t in tracks)
    assert any(not t.cover and not t.folder_cover for t in tracks)
    assert {t.cover for t in tracks if t.cover} == set(COVER_TEMPLATES)

    albums: dict[str, list[SampleTrack]] = {}
    for t in tracks:
        albums.setdefault("/".join(t.path.split("/")[:2]), []).append(t)
    assert len(albums) == summary.albums
    sizes = [len(ts) for ts in albums.values()]
    assert all(8 <= n <= 14 for n in sizes[:-1])  # the last album is cut to reach `count`
    for album_tracks in albums.values():
        assert len({(t.album, t.year) for t in album_tracks if t.tag_style != "id3v1"}) <= 1
        for t in album_tracks:
            assert t.path.split("/")[-1].split(" - ")[0].split("-")[-1] == f"{t.track_number:02d}"


def test_folder_images_are_the_templates_and_found(mixed: tuple[Path, SampleSummary]) -> None:
    root, summary = mixed
    folder_covers = {t.folder_cover for t in summary.tracks if t.folder_cover}
    assert len(folder_covers) == summary.folder_covers > 0
    templates = {(TEMPLATE_DIR / name).read_bytes() for name in COVER_TEMPLATES}
    for rel in folder_covers:
        image = root / rel
        assert image.read_bytes() in templates
        names = [p.name for p in image.parent.iterdir()]
        assert find_folder_cover(str(image.parent), names) == image.name


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = make_sample_library(tmp_path / "a", 300, seed=5)
    b = make_sample_library(tmp_path / "b", 300, seed=5)
    assert a.tracks == b.tracks
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_different_seed_gives_a_different_library(tmp_path: Path) -> None:
    make_sample_library(tmp_path / "a", 100, seed=5)
    make_sample_library(tmp_path / "b", 100, seed=6)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len([p for p in a if not p.endswith((".jpg", ".png"))]) == 100
    assert set(a) != set(b)


def test_writes_into_existing_directory_but_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    make_sample_library(tmp_path, 30, seed=1)
    before = tree(tmp_path)
    assert before["notes.txt"] == b"keep me"
    with pytest.raises(FileExistsError):
        make_sample_library(tmp_path, 30, seed=1)
    with pytest.raises(FileExistsError):  # overlaps the first library: refused before writing anything
        make_sample_library(tmp_path, 60, seed=1)
    assert tree(tmp_path) == before


def test_formats_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown sample format"):
        make_sample_library(tmp_path, 5, seed=1, formats=["mp3", "mp4"])
    summary = make_sample_library(tmp_path, 25, seed=1, formats=["FLAC", " opus"])
    assert set(summary.formats) <= {"flac", "opus"} and summary.files == 25


def test_zero_count(tmp_path: Path) -> None:
    summary = make_sample_library(tmp_path / "empty", 0, seed=1)
    assert summary.files == 0 and summary.tracks == ()


def test_management_command(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("make_sample_library", str(tmp_path / "lib"), "--count", "20", "--seed", "4",
                 "--formats", "mp3,flac", stdout=out)
    text = out.getvalue()
    assert "Wrote 20 audio files" in text and "formats:" in text
    audio = [p for p in (tmp_path / "lib").rglob("*") if p.suffix in (".mp3", ".flac")]
    assert len(audio) == 20
    with pytest.raises(CommandError, match="unknown sample format"):
        call_command("make_sample_library", str(tmp_path / "x"), "--count", "3", "--formats", "ape", stdout=out)
    with pytest.raises(CommandError, match="already exists"):
        call_command("make_sample_library", str(tmp_path / "lib"), "--count", "20", "--seed", "4",
                     "--formats", "mp3,flac", stdout=out)
