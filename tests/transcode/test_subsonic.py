"""Subsonic ``stream`` transcodes as the app asks (py-sonic against a live bridge), ``download``
stays the original, and each user's defaults (set where the Subsonic password is) apply to
what an app leaves out."""
from __future__ import annotations

import json

import pytest

from tests.subsonic.conftest import alice, catalogue, subsonic_user  # noqa: F401 - fixtures

from .conftest import decode

libsonic = pytest.importorskip("libsonic", reason="py-sonic (module libsonic) is not installed")


@pytest.fixture(scope="module")
def sonic(bridge):
    password = bridge.manage("subsonic_password", "listener").strip()
    return libsonic.Connection("http://127.0.0.1", "listener", password, port=bridge.port, appName="py-sonic")


def song(bridge, key: str) -> str:
    return f"tr-{bridge.tracks[key]}"


def test_max_bitrate_96_through_py_sonic(bridge, sonic):
    response = sonic.stream(song(bridge, "wav"), maxBitRate=96)  # 128 kbit/s PCM
    body = response.read()
    assert response.headers["X-Transcode-Profile"] == "mp3-96" and response.headers["Content-Type"] == "audio/mpeg"
    decoded = decode(body)
    assert decoded.codec == "mp3" and 0.85 * 96 <= len(body) * 8 / decoded.seconds / 1000 <= 1.15 * 96
    opus = sonic.stream(song(bridge, "aiff"), maxBitRate=96, tformat="opus")
    assert opus.headers["X-Transcode-Profile"] == "opus-96" and decode(opus.read()).codec == "opus"


def test_raw_and_download_are_the_original(bridge, sonic):
    original = bridge.paths["flac"].read_bytes()
    assert sonic.stream(song(bridge, "flac"), maxBitRate=64, tformat="raw").read() == original
    assert sonic.download(song(bridge, "flac")).read() == original


def test_time_offset_and_estimated_length(bridge, sonic):
    late = sonic.stream(song(bridge, "long"), maxBitRate=128, tformat="mp3", timeOffset=590).read()
    assert abs(decode(late).seconds - 10) < 0.1
    response = sonic.stream(song(bridge, "long"), maxBitRate=128, tformat="opus", estimateContentLength=True)
    body = response.read()
    expected = int(600 * 128 * 1000 / 8 * 1.02) + 4096  # a little over: padded with zeros
    assert int(response.headers["Content-Length"]) == expected and len(body) == expected
    assert body.endswith(bytes(1000)) and abs(decode(body).seconds - 600) < 0.1


def test_busy_transcoders_are_an_error_in_the_envelope(bridge, sonic):
    held = [bridge.open_stream(f"/api/v1/tracks/{bridge.tracks['long']}/stream?format=aac&max_bitrate={rate}")
            for rate in (96, 128, 192)]
    try:
        with pytest.raises(libsonic.errors.SonicError if hasattr(libsonic, "errors") else Exception) as failed:
            sonic.stream(song(bridge, "long"), maxBitRate=256, tformat="aac")
        assert "busy" in str(failed.value)
    finally:
        for connection, _ in held:
            connection.close()


# -- per-user defaults, in this process ------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_a_users_defaults_apply_to_what_the_app_leaves_out(catalogue, alice, client):  # noqa: F811
    from library.models import Track

    track = Track.objects.filter(format="flac").first()
    ident = f"tr-{track.pk}"
    assert alice.raw("stream", id=ident)["X-Transcode-Profile"] == "raw"
    client.force_login(alice.user)
    saved = client.post("/rest/credentials", json.dumps({"stream_format": "opus", "stream_max_bitrate": 96}),
                        content_type="application/json")
    assert saved.status_code == 200 and saved.json()["stream_format"] == "opus"
    assert client.get("/rest/credentials").json()["stream_max_bitrate"] == 96
    assert saved.json()["password"]  # the password is untouched
    response = alice.raw("stream", id=ident)
    assert response["X-Transcode-Profile"] == "opus-96" and decode(_body(response)).codec == "opus"
    assert alice.raw("stream", id=ident, maxBitRate=64)["X-Transcode-Profile"] == "opus-64"  # the lower maximum
    assert alice.raw("stream", id=ident, maxBitRate=320, format="mp3")["X-Transcode-Profile"] == "mp3-96"
    assert alice.raw("stream", id=ident, format="raw")["X-Transcode-Profile"] == "raw"
    assert _body(alice.raw("download", id=ident)) == (catalogue["root"] / track.path).read_bytes()
    for bad in ({"stream_format": "flac"}, {"stream_max_bitrate": -1}, {"stream_max_bitrate": "96"}):
        refused = client.post("/rest/credentials", json.dumps(bad), content_type="application/json")
        assert refused.status_code == 400, bad
    assert client.get("/rest/credentials").json()["stream_format"] == "opus"
