"""The transcode cache: a finished entry served like a file (Range, ETag, Content-Length),
a changed source file never served from an older entry, time offsets transcoded and not
cached, and least-recently-used eviction within ``TRANSCODE_CACHE_MB``."""
from __future__ import annotations

import os
import time

import pytest
from django.test import override_settings

from bridge.transcode.cache import TranscodeCache, cache_dir, entry_path
from bridge.transcode.profiles import profile
from library.sample import template_path

from .conftest import decode


def stream_url(bridge, key: str, query: str) -> str:
    return f"/api/v1/tracks/{bridge.tracks[key]}/stream?{query}"


def test_a_finished_entry_is_served_like_a_file(bridge):
    url = stream_url(bridge, "flac", "format=opus&max_bitrate=128")
    status, headers, first = bridge.get(url)
    assert status == 200 and headers["x-transcode-cache"] == "miss" and headers["x-transcode-profile"] == "opus-128"
    assert headers["accept-ranges"] == "none" and "content-length" not in headers
    status, headers, again = bridge.get(url)
    assert status == 200 and headers["x-transcode-cache"] == "hit" and again == first
    assert headers["content-length"] == str(len(first)) and headers["accept-ranges"] == "bytes"
    assert headers["content-type"] == "audio/ogg"
    etag = headers["etag"]
    status, headers, part = bridge.get(url, {"Range": "bytes=1000-1999"})
    assert status == 206 and part == first[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(first)}"
    status, _, tail = bridge.get(url, {"Range": "bytes=-500"})
    assert status == 206 and tail == first[-500:]
    status, _, _ = bridge.get(url, {"If-None-Match": etag})
    assert status == 304
    status, _, _ = bridge.get(url, {"Range": f"bytes={len(first)}-"})
    assert status == 416


def test_a_byte_range_of_an_adts_entry_decodes_from_where_it_starts(bridge):
    url = stream_url(bridge, "long", "format=aac&max_bitrate=128")
    whole = bridge.get(url)[2]
    status, headers, second_half = bridge.get(url, {"Range": f"bytes={len(whole) // 2}-"})
    assert status == 206 and headers["x-transcode-cache"] == "hit"
    assert abs(decode(second_half).seconds - 300) < 1.0  # ADTS frames resynchronise anywhere: a seek by bytes


def test_a_changed_file_is_never_served_from_an_older_entry(bridge):
    url = stream_url(bridge, "wav", "format=mp3&max_bitrate=128")
    _, headers, _ = bridge.get(url)
    assert headers["x-transcode-cache"] == "miss"
    _, headers, _ = bridge.get(url)
    assert headers["x-transcode-cache"] == "hit"
    old_etag = headers["etag"]
    path = bridge.paths["wav"]
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))
    _, headers, _ = bridge.get(url)
    assert headers["x-transcode-cache"] == "miss"
    _, headers, _ = bridge.get(url)
    assert headers["x-transcode-cache"] == "hit" and headers["etag"] != old_etag


def test_a_time_offset_starts_there_and_is_not_cached(bridge):
    url = stream_url(bridge, "long", "format=opus&max_bitrate=96&offset_ms=590000")
    before = set(bridge.cache_entries())
    for _ in range(2):
        status, headers, body = bridge.get(url)
        assert status == 200 and headers["x-transcode-cache"] == "miss"
        assert abs(decode(body).seconds - 10.0) < 0.1
    assert set(bridge.cache_entries()) == before
    assert not list((bridge.cache_entries()[0].parent.parent / "uncached").iterdir())


def test_the_original_is_sent_as_is_when_it_already_fits(bridge):
    status, headers, body = bridge.get(stream_url(bridge, "mp3", "format=mp3&max_bitrate=320"))
    assert status == 200 and headers["x-transcode-profile"] == "raw" and body == bridge.paths["mp3"].read_bytes()
    status, headers, body = bridge.get(stream_url(bridge, "flac", "format=raw&max_bitrate=64"))
    assert headers["x-transcode-profile"] == "raw" and body == bridge.paths["flac"].read_bytes()
    status, headers, _ = bridge.get(stream_url(bridge, "wma", "accept=mp3,flac,ogg,opus,m4a,wav"))
    assert headers["x-transcode-profile"].startswith("mp3-")
    status, headers, _ = bridge.get(stream_url(bridge, "flac", "accept=mp3,flac"))
    assert headers["x-transcode-profile"] == "raw"


def test_bad_parameters_are_refused(bridge):
    for query in ("format=flac", "max_bitrate=-1", "offset_ms=x", "max_bitrate=99999999999"):
        status, _, body = bridge.get(stream_url(bridge, "flac", query))
        assert status == 400 and b"invalid_payload" in body, query


# -- eviction, in this process --------------------------------------------------------------


def _fill(cache: TranscodeCache, key: str, name: str = "opus-64") -> None:
    chosen = profile(name)
    opened = cache.open(key, template_path("flac"), chosen)
    if opened[0] == "hit":
        return
    _, job, handle = opened
    job.wait_first_bytes()
    with job.changed:
        job.changed.wait_for(lambda: job.finished, 30)
    handle.close()
    cache.leave(job)
    assert job.state == "done", job.error


@pytest.mark.django_db
def test_the_least_recently_used_entries_are_evicted(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    chosen = profile("opus-64")
    with override_settings(TRANSCODE_CACHE_MB=100, TRANSCODE_MAX_PROCESSES=2, TRANSCODE_QUEUE_SECONDS=1):
        cache = TranscodeCache()
        _fill(cache, "a" * 40)
        size = entry_path("a" * 40, chosen).stat().st_size
        _fill(cache, "b" * 40)
        for age, key in ((30, "a"), (20, "b")):  # b used after a
            then = time.time() - age
            os.utime(entry_path(key * 40, chosen), (then, then))
        assert cache.open("a" * 40, template_path("flac"), chosen)[0] == "hit"  # a is now the most recent
        with override_settings(TRANSCODE_CACHE_MB=2.5 * size / 1024 / 1024):
            _fill(cache, "c" * 40)
    left = sorted(path.name[0] for path in cache_dir().glob("*/*"))
    assert left == ["a", "c"]
