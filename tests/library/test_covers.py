"""The cover store: each image once, by content hash, written atomically; rows got or created."""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from library import covers
from library.models import CoverArt
from library.sample import TEMPLATE_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "covers").rglob("*") if p.is_file())


def test_an_image_is_stored_once_under_its_hash(data_dir):
    data = (TEMPLATE_DIR / "cover-red.jpg").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    first = covers.store_cover(data, "image/jpeg")
    second = covers.store_cover(data, "image/jpg")
    assert first.pk == second.pk and CoverArt.objects.filter(sha256=sha).count() == 1
    assert (first.sha256, first.mime, first.size, first.width, first.height) == (sha, "image/jpeg", len(data), 32, 32)
    path = covers.cover_path(first)
    assert path == data_dir / "covers" / sha[:2] / f"{sha}.jpg"
    assert path.read_bytes() == data
    assert files(data_dir) == [path]  # no temporary files left behind


def test_png_and_the_type_comes_from_the_bytes(data_dir):
    data = (TEMPLATE_DIR / "cover-gold.png").read_bytes()
    cover = covers.store_cover(data, "image/jpeg")  # declared wrongly
    assert (cover.mime, cover.width, cover.height) == ("image/png", 32, 32)
    assert covers.cover_path(cover).suffix == ".png"


def test_an_unknown_format_keeps_the_declared_image_type(data_dir):
    cover = covers.store_cover(b"II*\x00 a tiff, say", "image/tiff")
    assert cover.mime == "image/tiff" and cover.width is None
    assert covers.cover_path(cover).suffix == ".bin" and covers.cover_path(cover).is_file()
    assert covers.store_cover(b"????", "text/html").mime == "application/octet-stream"


def test_a_damaged_file_is_rewritten(data_dir):
    data = (TEMPLATE_DIR / "cover-navy.jpg").read_bytes()
    cover = covers.store_cover(data, "image/jpeg")
    covers.cover_path(cover).write_bytes(data[:10])
    covers.store_cover(data, "image/jpeg")
    assert covers.cover_path(cover).read_bytes() == data


def test_bulk_rows_and_files_without_the_database(data_dir):
    images = [(TEMPLATE_DIR / name).read_bytes() for name in ("cover-red.jpg", "cover-teal.jpg", "cover-green.png")]
    written = [covers.write_cover_file(data, "", durable=False) for data in images + images[:1]]
    assert CoverArt.objects.count() == 0 and len(files(data_dir)) == 3
    ids = covers.cover_rows(written)
    assert set(ids) == {w.sha256 for w in written} and CoverArt.objects.count() == 3
    assert covers.cover_rows(written) == ids
    assert covers.cover_row(written[0]).pk == ids[written[0].sha256]


def test_empty_data_is_refused(data_dir):
    with pytest.raises(ValueError):
        covers.store_cover(b"", "image/png")


@pytest.mark.parametrize("mime, data, size", [
    ("image/gif", b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 8, (640, 480)),
    ("image/bmp", b"BM" + b"\x00" * 16 + struct.pack("<ii", 300, -200) + b"\x00" * 8, (300, 200)),
    ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little"), (100, 50)),
    ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08" + struct.pack(">HH", 600, 800) + b"\x00" * 8, (800, 600)),
    ("image/jpeg", b"\xff\xd8\xff\xda\x00\x04", None),
    ("image/png", b"\x89PNG\r\n\x1a\n short", None),
])
def test_image_size_from_headers(mime, data, size):
    assert covers.image_size(data, mime) == size
