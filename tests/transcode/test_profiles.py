"""The one rule that picks a profile or the original (``bridge.transcode.profiles.choose``)."""
from __future__ import annotations

import pytest

from bridge.transcode.profiles import choose, codec_named, profile
from common.errors import InvalidPayload


def name(chosen) -> str:
    return chosen.name if chosen else "raw"


@pytest.mark.parametrize(("source", "asked", "expected"), [
    # (format, codec, bit/s), (format, max kbit/s, accept) -> profile
    (("flac", "flac", 900_000), (None, None, None), "raw"),  # nothing asked: the original
    (("flac", "flac", 900_000), ("raw", 64, None), "raw"),  # raw: always the original
    (("flac", "flac", 900_000), (None, 96, None), "mp3-96"),  # a maximum only: mp3
    (("flac", "flac", 900_000), ("opus", 96, None), "opus-96"),
    (("flac", "flac", 900_000), ("opus", 100, None), "opus-96"),  # the highest within the maximum
    (("flac", "flac", 900_000), ("opus", 10, None), "opus-64"),  # below every rate: the lowest
    (("flac", "flac", 900_000), ("opus", None, None), "opus-192"),  # the codec's default
    (("flac", "flac", 900_000), ("aac", None, None), "aac-256"),
    (("mp3", "mp3", 128_000), ("mp3", 320, None), "raw"),  # already mp3 within the maximum
    (("mp3", "mp3", 320_000), ("mp3", 128, None), "mp3-128"),
    (("mp3", "mp3", 128_000), ("opus", None, None), "opus-128"),  # no upsizing past the source
    (("wma", "wmav2", 64_000), ("opus", 96, None), "opus-64"),
    (("mp3", "mp3", 128_000), (None, 96, None), "mp3-96"),
    (("opus", "opus", 96_000), (None, 128, None), "raw"),
    (("m4a", "aac", 256_000), ("aac", 256, None), "raw"),
    (("m4a", "alac", 1_000_000), ("aac", 256, None), "aac-256"),
    (("wma", "wmav2", 128_000), (None, None, frozenset({"mp3", "flac", "ogg", "opus", "m4a", "wav"})), "mp3-128"),
    (("flac", "flac", 900_000), (None, None, frozenset({"mp3", "flac"})), "raw"),
    (("flac", "flac", None), (None, 96, None), "mp3-96"),  # unknown bitrate: not known to fit
    # a browser: the codec to transcode to, and what it plays as it is
    (("flac", "flac", 900_000), ("opus", None, frozenset({"flac", "mp3"})), "raw"),
    (("wma", "wmav2", 128_000), ("opus", None, frozenset({"flac", "mp3"})), "opus-128"),
    (("aiff", "pcm", 1_411_000), ("opus", None, frozenset({"flac", "mp3"})), "opus-192"),
    (("flac", "flac", 900_000), ("opus", 96, frozenset({"flac", "mp3"})), "opus-96"),
    (("mp3", "mp3", 96_000), ("opus", 96, frozenset({"flac", "mp3"})), "raw"),
])
def test_choose(source, asked, expected):
    fmt, max_kbps, accept = asked
    assert name(choose(*source, format=fmt, max_kbps=max_kbps, accept=accept)) == expected


def test_names():
    assert codec_named("OGG", strict=True) == "opus" and codec_named("raw", strict=True) == "raw"
    assert codec_named("", strict=True) is None and codec_named("flv", strict=False) is None
    with pytest.raises(InvalidPayload):
        codec_named("flv", strict=True)
    assert profile("mp3-320").bitrate == 320
    with pytest.raises(InvalidPayload):
        profile("mp3-321")
