"""Streaming: full body, ranges, 304/416, and files that would leave their library root."""
from __future__ import annotations

import os

import pytest
from django.test import Client
from django.utils.http import http_date
from hypothesis import given, settings as hypothesis_settings, strategies as st

from bridge.files import parse_range
from library.models import Album, Artist, Library, Track
from library.sample import make_sample_library
from tests.asgi_client import through_asgi

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "music"
    summary = make_sample_library(root, count=3, seed=7, formats=["flac", "mp3"])
    library = Library.objects.create(name="Music", root=str(root))
    artist = Artist.objects.create(name="A", sort_name="a")
    album = Album.objects.create(title="T", sort_title="t", album_artist=artist)

    def make_track(relative: str, fmt: str = "flac") -> Track:
        return Track.objects.create(library=library, path=relative, size=1, mtime_ns=1, fingerprint="x", format=fmt,
                                    codec=fmt, title=relative, sort_title=relative, album=album)

    first = summary.tracks[0]
    return {"root": root, "make": make_track, "sample": first}


@pytest.fixture
def client(django_user_model, transport):
    """Signed in; through the real ASGI application (the body sent by ``FileChunks``) in the ``asgi`` run."""
    user = django_user_model.objects.create_user("listener", password="pw-long-enough")
    http = Client(HTTP_HOST="127.0.0.1")
    if transport == "asgi":
        through_asgi(http)
    http.force_login(user)
    return http


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_full_file_with_type_length_and_validators(music, client):
    track = music["make"](music["sample"].path, music["sample"].sample_format)
    data = (music["root"] / music["sample"].path).read_bytes()
    response = client.get(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 200
    assert body(response) == data
    assert response["Content-Length"] == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"].startswith("audio/")
    assert response["ETag"].startswith('"') and response["Last-Modified"]


@pytest.mark.parametrize(
    "header,start,end",
    [("bytes=0-99", 0, 99), ("bytes=100-299", 100, 299), ("bytes=-50", -50, None), ("bytes=200-", 200, None)],
    ids=["first-bytes", "middle", "suffix", "open-ended"],
)
def test_single_ranges(music, client, header, start, end):
    track = music["make"](music["sample"].path)
    data = (music["root"] / music["sample"].path).read_bytes()
    expected = data[start:] if end is None else data[start:end + 1]
    response = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == expected
    first = len(data) + start if start < 0 else start
    assert response["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert response["Content-Length"] == str(len(expected))


def test_unsatisfiable_range_is_416(music, client):
    track = music["make"](music["sample"].path)
    size = (music["root"] / music["sample"].path).stat().st_size
    response = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_RANGE=f"bytes={size + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_conditional_requests_get_304(music, client):
    track = music["make"](music["sample"].path)
    first = client.get(f"/api/v1/tracks/{track.pk}/stream")
    again = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and body(again) == b""
    mtime = (music["root"] / music["sample"].path).stat().st_mtime
    since = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_IF_MODIFIED_SINCE=http_date(mtime + 10))
    assert since.status_code == 304
    stale = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200  # If-Range mismatch: the whole file


@pytest.mark.parametrize("method", ["get", "head"])
def test_anonymous_is_refused_with_the_catalogue_code(music, method):
    track = music["make"](music["sample"].path)
    response = getattr(Client(HTTP_HOST="127.0.0.1"), method)(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    if method == "get":
        assert response.json()["error"]["code"] == "unauthenticated"


def test_unknown_track_is_404(client):
    response = client.get("/api/v1/tracks/999999/stream")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No track 999999."}}


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_paths_outside_the_library_root_are_refused(music, client, kind, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not music")
    if kind == "dotdot":
        relative = "../secret.txt"
    elif kind == "absolute":
        relative = str(secret)
    else:
        os.symlink(secret, music["root"] / "link.flac")
        relative = "link.flac"
    track = music["make"](relative)
    response = client.get(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert b"not music" not in response.content


def test_symlink_to_etc_is_refused(music, client):
    os.symlink("/etc/passwd", music["root"] / "passwd.mp3")
    track = music["make"]("passwd.mp3", "mp3")
    response = client.get(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 403
    assert b"root:" not in response.content


def test_x_accel_redirect_hands_the_transfer_to_nginx(music, client, settings):
    settings.STREAM_X_ACCEL_PREFIX = "/_music/"
    track = music["make"](music["sample"].path)
    response = client.get(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"].startswith(f"/_music/{track.library_id}/")
    assert body(response) == b""


def test_token_endpoint_and_its_throttle(django_user_model, settings):
    from django.core.cache import cache

    cache.clear()
    django_user_model.objects.create_user("tok", password="pw-long-enough")
    http = Client(HTTP_HOST="127.0.0.1")
    good = http.post("/api/v1/auth/token/", {"username": "tok", "password": "pw-long-enough"})
    assert good.status_code == 200 and len(good.json()["token"]) == 40
    bad = http.post("/api/v1/auth/token/", {"username": "tok", "password": "wrong"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_payload"
    codes = [http.post("/api/v1/auth/token/", {"username": "tok", "password": "guess"}).status_code for _ in range(12)]
    assert 429 in codes
    assert http.post("/api/v1/auth/token/", {"username": "tok", "password": "guess"}).json()["error"]["code"] == "rate_limited"


HOSTILE_RANGES = [
    "bytes=" + "9" * 5000 + "-",           # a number Python's int() refuses to parse (over 4,300 digits)
    "bytes=0-" + "9" * 5000,
    "bytes=-" + "9" * 5000,
    "bytes=" + "0" * 5000 + "1-",          # leading zeros: the number is 1
    "bytes=\u0663-",                        # an Arabic-Indic digit: not a DIGIT in HTTP
    "bytes=\u00b2-\u00b3",
    "bytes=99999999999999999999-99999999999999999999",
    "bytes=5-3",
    "bytes=0-0,5-9",
    "bytes=--1",
    "bytes=-0",
    "pages=0-9",
    "bytes",
]


@pytest.mark.parametrize("header", HOSTILE_RANGES, ids=range(len(HOSTILE_RANGES)))
def test_a_malformed_or_huge_range_gets_416_or_the_whole_file_never_500(music, client, header):
    track = music["make"](music["sample"].path)
    data = (music["root"] / music["sample"].path).read_bytes()
    response = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_RANGE=header)
    assert response.status_code in (200, 206, 416), response.status_code
    if response.status_code == 416:
        assert response["Content-Range"] == f"bytes */{len(data)}"
    elif response.status_code == 200:
        assert body(response) == data
    else:
        first, last = map(int, response["Content-Range"].split()[1].split("/")[0].split("-"))
        assert body(response) == data[first:last + 1]


def test_leading_zeros_still_name_the_byte(music, client):
    track = music["make"](music["sample"].path)
    data = (music["root"] / music["sample"].path).read_bytes()
    response = client.get(f"/api/v1/tracks/{track.pk}/stream", HTTP_RANGE="bytes=" + "0" * 5000 + "1-" + "0" * 5000 + "4")
    assert response.status_code == 206 and body(response) == data[1:5]


_RANGE_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, b: f"bytes={a}-{b}", st.text("0123456789\u0663\u00b2 ,-", max_size=30),
              st.text("0123456789\u0663\u00b2 ,-", max_size=30)),
    st.builds(lambda a, b: f"bytes={a}-{b}", st.one_of(st.integers(0, 2**64).map(str), st.text("0123456789", max_size=6000)),
              st.one_of(st.integers(0, 2**64).map(str), st.text("0123456789", max_size=6000))),
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(header=_RANGE_TEXT, size=st.integers(0, 2**40))
def test_parse_range_answers_every_header_with_a_span_inside_the_file_or_a_verdict(header, size):
    span = parse_range(header, size)
    if span is None or span == "unsatisfiable":
        return
    start, end = span
    assert 0 <= start <= end < size


def test_a_track_whose_file_is_a_named_pipe_is_404_without_blocking(music, client):
    os.mkfifo(music["root"] / "pipe.flac")
    track = music["make"]("pipe.flac")
    response = client.get(f"/api/v1/tracks/{track.pk}/stream")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_open_regular_refuses_a_pipe_without_blocking_and_opens_files(tmp_path):
    from library.files import NotRegularFile, open_regular

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(NotRegularFile):
        open_regular(tmp_path / "pipe")
    with pytest.raises(NotRegularFile):
        open_regular(tmp_path)
    (tmp_path / "file").write_bytes(b"abc")
    with open_regular(tmp_path / "file") as handle:
        assert handle.read() == b"abc" and handle.name == str(tmp_path / "file")
