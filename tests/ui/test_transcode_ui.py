"""Transcoding in the web player: a WMA track (which Chromium cannot decode) is asked for as
Opus and plays; a device set to "mobile" from another device's panel streams the mobile
profile; a file the browser plays within the limit is streamed as it is."""
from __future__ import annotations

import time

import pytest

from .conftest import PASSWORD, USERS, Pages, UIServer, open_album, wait_audio


LONG_AIFF_SECONDS = 300
LONG_AIFF_ALBUM = "Long AIFF"


def write_long_aiff(path) -> None:
    """A 5-minute AIFF (the template looped by ffmpeg): Chromium cannot decode AIFF."""
    import subprocess

    from mutagen.aiff import AIFF
    from mutagen.id3 import TALB, TIT2, TPE1

    from devtools.bench.transcode import system_ffmpeg
    from library.sample import template_path

    path.parent.mkdir(parents=True)
    subprocess.run([system_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", "-1", "-i",
                    str(template_path("aiff", 1500)), "-t", str(LONG_AIFF_SECONDS), "-c:a", "pcm_s16be", str(path)],
                   check=True)
    tags = AIFF(path)
    tags.add_tags()
    for frame in (TIT2(encoding=3, text="Long aiff"), TPE1(encoding=3, text="Bench"), TALB(encoding=3, text=LONG_AIFF_ALBUM)):
        tags.tags.add(frame)
    tags.save()


class TranscodeUIServer(UIServer):
    """The UI server over one generated file of every format (WMA and AIFF among them)."""

    def prepare(self) -> None:
        from library.sample import SAMPLE_FORMATS, make_sample_library

        for key in SAMPLE_FORMATS:
            make_sample_library(self.music / key, 1, seed=3, formats=[key])
        write_long_aiff(self.music / "long" / "Long aiff.aiff")
        self.manage("migrate", "--noinput")
        users = "; ".join(
            f"User.objects.create_user({name!r}, password={PASSWORD!r}, is_staff={staff})" for name, staff in USERS.items()
        )
        self.shell(f"from django.contrib.auth.models import User; {users}")
        self.manage("library", "add", "--name", "Music", "--interval", "0", str(self.music))
        self.manage("scan")


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    live = TranscodeUIServer(tmp_path_factory.mktemp("ui-transcode"))
    live.prepare()
    live.start()
    try:
        yield live
    finally:
        live.close()


@pytest.fixture
def pages(browser, server):
    opened = Pages(browser, server)
    yield opened
    violations = opened.csp_violations()
    opened.close(None)
    assert violations == [], f"Content-Security-Policy violations: {violations}"


def first_track(server, fmt: str) -> tuple[int, str]:
    out = server.shell(
        "from library.models import Track;"
        f"t = Track.objects.filter(format={fmt!r}).select_related('album').order_by('id').first();"
        "print('found', t.pk, t.album.title)")
    pk, title = out.split("found ", 1)[1].strip().split(" ", 1)
    return int(pk), title


def stream_responses(page) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.on("response", lambda r: seen.append((r.url, r.headers.get("x-transcode-profile", ""))) if "/stream" in r.url else None)
    return seen


def play_row(page, album: str, track_id: int) -> None:
    open_album(page, album)
    page.dblclick(f".track-row[data-track='{track_id}']")


def test_a_wma_track_plays_transcoded_in_chromium(pages, server):
    track_id, album = first_track(server, "wma")
    page = pages.open("bob")
    assert page.evaluate("() => document.createElement('audio').canPlayType('audio/x-ms-wma')") == ""
    seen = stream_responses(page)
    play_row(page, album, track_id)
    wait_audio(page, f"(a.getAttribute('src') || '').includes('/tracks/{track_id}/stream?format=opus') "
                     "&& !a.paused && a.currentTime > 0.3")
    assert any(f"/tracks/{track_id}/" in url and profile.startswith("opus-") for url, profile in seen), seen


def test_a_device_set_to_mobile_from_another_streams_the_mobile_profile(pages, server):
    track_id, album = first_track(server, "wav")  # 128 kbit/s PCM: over the mobile limit
    tag = str(time.monotonic_ns())[-6:]
    laptop = pages.open("dana", device=f"Laptop {tag}")
    phone = pages.open("dana", device=f"Phone {tag}")
    seen = stream_responses(phone)
    laptop.click("a[data-nav=devices]")
    picker = laptop.locator(f".device-card[data-device='Phone {tag}'] select.dev-quality")
    picker.select_option("mobile")
    phone.click("a[data-nav=devices]")
    phone.wait_for_function(
        f"() => document.querySelector(\".device-card[data-device='Phone {tag}'] select.dev-quality\")?.value === 'mobile'")
    play_row(phone, album, track_id)
    wait_audio(phone, f"(a.getAttribute('src') || '').includes('/tracks/{track_id}/stream?') "
                      "&& (a.getAttribute('src') || '').includes('max_bitrate=96') && !a.paused && a.currentTime > 0.3")
    assert any(f"/tracks/{track_id}/" in url and profile == "opus-96" for url, profile in seen), seen
    # Back to original on the phone itself: the same file is then streamed as it is.
    phone.click("a[data-nav=devices]")
    phone.locator(f".device-card[data-device='Phone {tag}'] select.dev-quality").select_option("original")
    laptop.wait_for_function(
        f"() => document.querySelector(\".device-card[data-device='Phone {tag}'] select.dev-quality\")?.value === 'original'")
    play_row(phone, album, track_id)
    wait_audio(phone, f"a.getAttribute('src') === '/api/v1/tracks/{track_id}/stream' && a.currentTime > 0.3")


def test_subsonic_stream_defaults_are_set_where_the_password_is(pages, server):
    page = pages.open("carol")
    page.click("a[data-nav=subsonic]")
    page.wait_for_selector("#subsonic-stream-format")
    with page.expect_response(lambda r: r.url.endswith("/rest/credentials") and r.request.method == "POST"):
        page.select_option("#subsonic-stream-format", "opus")
    with page.expect_response(lambda r: r.url.endswith("/rest/credentials") and r.request.method == "POST"):
        page.select_option("#subsonic-stream-max", "96")
    saved = page.evaluate("() => fetch('/rest/credentials').then((r) => r.json())")
    assert saved["stream_format"] == "opus" and saved["stream_max_bitrate"] == 96
    page.reload()
    page.click("a[data-nav=subsonic]")
    page.wait_for_selector("#subsonic-stream-format")
    assert page.input_value("#subsonic-stream-format") == "opus" and page.input_value("#subsonic-stream-max") == "96"


def test_seeking_in_a_transcoded_track(pages, server):
    out = server.shell("from library.models import Track; print('found', Track.objects.get(title='Long aiff').pk)")
    track_id = int(out.split("found ", 1)[1].split()[0])
    page = pages.open("bob")
    play_row(page, LONG_AIFF_ALBUM, track_id)
    wait_audio(page, f"(a.getAttribute('src') || '').includes('/tracks/{track_id}/stream?format=opus') "
                     "&& !a.paused && a.currentTime > 0.5", timeout=20000)
    page.evaluate("() => { const s = document.getElementById('pb-seek'); s.value = 200; s.dispatchEvent(new Event('change')); }")
    wait_audio(page, "!a.paused && a.currentTime > 199 && a.currentTime < 210", timeout=20000)
