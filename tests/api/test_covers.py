"""Cover art: stored images, cached resized copies, caching headers, safe types."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from bridge.files import bucket
from library.covers import cover_path, store_cover
from tests.library import factories as f

from .conftest import assert_error, image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def decoded(response_or_bytes) -> Image.Image:
    data = response_or_bytes if isinstance(response_or_bytes, bytes) else body_of(response_or_bytes)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def big_jpeg(data_dir):
    return store_cover(image_bytes("cover-navy.jpg", (1000, 1000), "JPEG"), "image/jpeg")


@pytest.fixture
def album(big_jpeg):
    return f.album("Geogaddi", "Boards of Canada", cover=big_jpeg)


def test_the_stored_image_with_long_lived_caching(as_alice, album, big_jpeg):
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert body_of(response) == cover_path(big_jpeg).read_bytes()
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{big_jpeg.sha256[:32]}-0"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"


@pytest.mark.parametrize("asked, served", [(256, 256), (250, 256), (100, 128), (5, 32), (600, 768)])
def test_a_resized_copy_fits_the_size_bucket(as_alice, album, big_jpeg, data_dir, asked, served):
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size={asked}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["ETag"] == f'"{big_jpeg.sha256[:32]}-{served}"'
    data = body_of(response)
    image = decoded(data)
    assert (image.format, image.size) == ("JPEG", (served, served))
    cached = data_dir / "covers" / "resized" / big_jpeg.sha256[:2] / f"{big_jpeg.sha256}-{served}.jpg"
    assert cached.read_bytes() == data


def test_the_cached_copy_is_made_once(as_alice, album, monkeypatch):
    first = body_of(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=128"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("resized again")

    monkeypatch.setattr(Image, "open", no_decoding)
    assert body_of(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=100")) == first


def test_a_small_image_is_never_enlarged(as_alice, data_dir):
    small = store_cover(image_bytes("cover-red.jpg"), "image/jpeg")  # 32 x 32
    album = f.album("Small", "Someone", cover=small)
    data = body_of(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=1200"))
    assert data == cover_path(small).read_bytes()
    assert decoded(data).size == (32, 32)


def test_the_largest_size_is_1200(as_alice, data_dir):
    huge = store_cover(image_bytes("cover-teal.jpg", (1600, 1600), "JPEG"), "image/jpeg")
    album = f.album("Huge", "Someone", cover=huge)
    assert decoded(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=99999")).size == (1200, 1200)


def test_aspect_ratio_is_kept(as_alice, data_dir):
    wide = store_cover(image_bytes("cover-olive.jpg", (800, 400), "JPEG"), "image/jpeg")
    album = f.album("Wide", "Someone", cover=wide)
    assert decoded(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=256")).size == (256, 128)


def test_transparent_images_stay_png(as_alice, data_dir):
    png = store_cover(image_bytes("cover-gold.png", (500, 500), "PNG", mode="RGBA"), "image/png")
    album = f.album("Clear", "Someone", cover=png)
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=64")
    assert response["Content-Type"] == "image/png"
    image = decoded(response)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (64, 64))


def test_opaque_pngs_are_resized_to_jpeg(as_alice, data_dir):
    png = store_cover(image_bytes("cover-green.png", (500, 500), "PNG"), "image/png")
    album = f.album("Opaque", "Someone", cover=png)
    original = as_alice.get(f"/api/v1/albums/{album.pk}/cover")
    assert original["Content-Type"] == "image/png"
    resized = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=192")
    assert resized["Content-Type"] == "image/jpeg" and decoded(resized).size == (192, 192)


def test_if_none_match_answers_304(as_alice, album):
    etag = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=64")["ETag"]
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=64", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and body_of(response) == b""
    assert response["ETag"] == etag
    assert as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=128", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_track_cover_falls_back_to_the_album(as_alice, album, big_jpeg, data_dir):
    plain = f.track("Music Is Math", album)
    own = store_cover(image_bytes("cover-orange.png"), "image/png")
    special = f.track("Dawn Chorus", album, cover=own)
    assert body_of(as_alice.get(f"/api/v1/tracks/{plain.pk}/cover")) == cover_path(big_jpeg).read_bytes()
    assert body_of(as_alice.get(f"/api/v1/tracks/{special.pk}/cover")) == cover_path(own).read_bytes()
    assert as_alice.get(f"/api/v1/tracks/{plain.pk}/cover?size=32")["ETag"] == f'"{big_jpeg.sha256[:32]}-32"'


def test_covers_by_id(as_alice, big_jpeg):
    response = as_alice.get(f"/api/v1/covers/{big_jpeg.pk}?size=96")
    assert decoded(response).size == (96, 96)


def test_missing_covers_are_404_in_json(as_alice, data_dir):
    bare = f.album("Bare", "Someone")
    track = f.track("Bare Track", bare)
    for url in (f"/api/v1/albums/{bare.pk}/cover", f"/api/v1/tracks/{track.pk}/cover", "/api/v1/albums/98765/cover",
                "/api/v1/tracks/98765/cover", "/api/v1/covers/98765"):
        assert_error(as_alice.get(url, HTTP_ACCEPT="image/avif,image/webp,image/*"), 404, "not_found")


def test_a_missing_file_is_404(as_alice, album, big_jpeg):
    cover_path(big_jpeg).unlink()
    assert_error(as_alice.get(f"/api/v1/albums/{album.pk}/cover"), 404, "not_found")


@pytest.mark.parametrize("size", ["abc", "0", "-5", "1.5x", "100001"])
def test_a_bad_size_is_400(as_alice, album, size):
    error = assert_error(as_alice.get(f"/api/v1/albums/{album.pk}/cover?size={size}"), 400, "invalid_payload")
    assert error["details"][0]["field"] == "size"


def test_anonymous_callers_get_401(anon, album):
    assert_error(anon.get(f"/api/v1/albums/{album.pk}/cover"), 401, "unauthenticated")


def test_other_image_types_are_converted_to_png(as_alice, data_dir):
    bmp = store_cover(image_bytes("cover-indigo.png", fmt="BMP"), "image/bmp")
    album = f.album("Bitmap", "Someone", cover=bmp)
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover")
    assert response["Content-Type"] == "image/jpeg"  # opaque: converted, same size
    assert decoded(response).size == (32, 32)


def test_unreadable_non_web_types_are_attachments(as_alice, data_dir):
    svg = store_cover(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml")
    album = f.album("Vector", "Someone", cover=svg)
    for url in (f"/api/v1/albums/{album.pk}/cover", f"/api/v1/albums/{album.pk}/cover?size=64"):
        response = as_alice.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == "attachment"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_unreadable_jpeg_is_sent_as_stored(as_alice, data_dir):
    broken = store_cover(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    album = f.album("Broken", "Someone", cover=broken)
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover?size=64")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert body_of(response) == cover_path(broken).read_bytes()


def test_size_buckets():
    assert [bucket(n) for n in (1, 32, 33, 1199, 1200, 10**6)] == [32, 32, 64, 1200, 1200, 1200]


def test_a_range_header_on_a_cover_never_ends_in_500(as_alice, album, big_jpeg):
    response = as_alice.get(f"/api/v1/albums/{album.pk}/cover", HTTP_RANGE="bytes=" + "9" * 5000 + "-")
    assert response.status_code == 200  # covers ignore ranges: the whole image, as RFC 9110 allows
    assert body_of(response) == cover_path(big_jpeg).read_bytes()
