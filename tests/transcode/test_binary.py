"""Which ffmpeg: the ``FFMPEG`` setting (never silently replaced), else ``PATH``, else the
imageio-ffmpeg wheel's; with none that runs, originals are served, the bridge warns once at
start and ``/healthz`` says so to staff."""
from __future__ import annotations

import json

import pytest

from bridge.transcode import binary
from devtools.bench.transcode import TranscodeBridge

from .conftest import imageio_ffmpeg_path


@pytest.fixture(autouse=True)
def _fresh():
    binary.forget()
    yield
    binary.forget()


def test_the_setting_comes_first(settings):
    settings.FFMPEG = imageio_ffmpeg_path()
    found = binary.ffmpeg()
    assert found.source == "setting" and found.path == imageio_ffmpeg_path() and found.version.startswith("ffmpeg version")


def test_a_setting_that_does_not_run_is_not_replaced(settings, tmp_path):
    settings.FFMPEG = str(tmp_path / "no-such-ffmpeg")
    found = binary.ffmpeg()
    assert found.path is None and "no-such-ffmpeg" in found.error
    assert found.as_dict() == {"available": False, "serving": "originals", "error": found.error}


def test_without_one_on_path_the_wheels_binary_is_used(settings, monkeypatch, tmp_path):
    settings.FFMPEG = ""
    monkeypatch.setenv("PATH", str(tmp_path))
    found = binary.ffmpeg()
    assert found.source == "imageio-ffmpeg" and found.path == imageio_ffmpeg_path()


def test_without_ffmpeg_originals_are_served_and_healthz_says_so(tmp_path):
    live = TranscodeBridge(tmp_path, FFMPEG=str(tmp_path / "missing-ffmpeg"))
    live.start()
    try:
        status, headers, body = live.get(f"/api/v1/tracks/{live.tracks['wma']}/stream?format=mp3&max_bitrate=96")
        assert status == 200 and headers["x-transcode-profile"] == "raw" and body == live.paths["wma"].read_bytes()
        staff = live.manage("shell", "-c", (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "print(Token.objects.create(user=get_user_model().objects.create_user('boss', password='x-boss-pw', "
            "is_staff=True)).key)")).split()[-1]
        _, _, health = live.get("/healthz", {"Authorization": f"Token {staff}"})
        transcoding = json.loads(health)["transcoding"]
        assert transcoding["available"] is False and transcoding["serving"] == "originals"
        _, _, anonymous = live.get("/healthz", {"Authorization": ""})
        assert "transcoding" not in json.loads(anonymous)
    finally:
        live.stop()
    log = live.log()
    assert log.count("no ffmpeg can be run, so audio is served as the original files") == 1
    assert "WARNING" in log.split("no ffmpeg can be run")[0].splitlines()[-1]
