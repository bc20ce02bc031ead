"""After the server restarts, the page reconnects by itself and catches up by version."""
from __future__ import annotations

import json
import time

from .conftest import LONG_ALBUM, open_album, wait_audio


def test_page_recovers_after_a_server_restart(pages, server):
    name = f"Desk {time.monotonic_ns() % 10**6}"
    page = pages.open("bob", device=name)
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 1")
    other = pages.open("bob")  # a second device, to check live events after the restart

    server.stop("bridge", 9)  # a crash, not a clean shutdown
    page.wait_for_selector("#conn[data-status=reconnecting]", timeout=5000)
    # While the page is away, its player changes (as a scheduled job would): the page must
    # pick that up by version when it is back.
    server.shell(
        "from tracker import store; from tracker.models import Tracker; "
        f"t = Tracker.objects.get(kind='player', key={json.dumps(name)}); "
        "store.dispatch(t.pk, 'player.volume.set', {'volume': 40}); "
        "store.dispatch(t.pk, 'player.mode.set', {'repeat': 'all'})"
    )
    server.start_bridge()

    page.wait_for_selector("#conn[data-status=open]", timeout=20000)
    page.wait_for_selector("#pb-repeat[data-repeat=all]", timeout=5000)
    wait_audio(page, "Math.abs(a.volume - 0.4) < 0.01", timeout=5000)
    assert page.input_value("#pb-volume") == "40"
    # Still playing the same track, and live again: another device pauses it.
    wait_audio(page, "!a.paused", timeout=5000)
    assert page.text_content("#pb-title") == "Hour 1"
    other.wait_for_selector("#conn[data-status=open]", timeout=20000)
    other.click("a[data-nav=devices]")
    card = other.locator(f".device-card[data-device='{name}']")
    card.locator("[data-act=toggle]", has_text="Pause").click()
    wait_audio(page, "a.paused", timeout=2000)
    # Requests work again from the page itself.
    page.click("#pb-play")
    wait_audio(page, "!a.paused", timeout=3000)
    assert page.errors == []


def wait_open_within(page, seconds):
    started = time.monotonic()
    page.wait_for_selector("#conn[data-status=open]", timeout=seconds * 1000 + 5000)
    return time.monotonic() - started


def test_offline_banner_retry_now_and_quick_reconnect(pages, server):
    for viewport in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
        page = pages.open("bob", viewport=viewport)
        server.stop("bridge", 9)
        page.wait_for_selector("#offline:not([hidden])", timeout=5000)
        assert "Not connected" in page.text_content("#offline")
        assert page.locator("#offline-retry").is_visible()
        time.sleep(8)  # long enough for the back-off to reach its cap
        page.click("#offline-retry")  # the server is still away: the banner stays, ready to retry again
        page.wait_for_selector("#offline-retry:not([disabled])", timeout=5000)
        assert page.locator("#offline").is_visible()
        server.start_bridge()  # returns once the server answers
        took = wait_open_within(page, 3)
        assert took < 3.0, f"reconnected {took:.1f} s after the server was back"
        page.wait_for_selector("#offline", state="hidden")
        assert page.errors == []


def test_what_the_page_shows_is_reloaded_after_reconnecting(pages, server):
    page = pages.open("carol")
    page.click("a[data-nav=playlists]")
    page.wait_for_selector("#view h1")
    name = f"Made while away {time.monotonic_ns() % 10**6}"
    server.stop("bridge", 9)
    page.wait_for_selector("#offline:not([hidden])", timeout=5000)
    # While the page is away, a playlist is made elsewhere (e.g. by a Subsonic app).
    server.shell(
        "from django.contrib.auth.models import User; from library.userdata.playlists import playlist_create; "
        f"playlist_create(User.objects.get(username='carol'), {name!r})"
    )
    server.start_bridge()
    page.wait_for_selector("#conn[data-status=open]", timeout=8000)
    page.wait_for_selector(f"#view :text('{name}')", timeout=5000)
    assert page.url.endswith("#/playlists")


def test_player_presses_made_offline_are_dropped_when_stale(pages, server):
    page = pages.open("bob", device=f"Presses {time.monotonic_ns() % 10**6}")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 1")
    server.stop("bridge", 9)
    page.wait_for_selector("#conn[data-status=reconnecting]", timeout=5000)
    for _ in range(3):
        page.click("#pb-next")
    page.wait_for_selector(".toast.error:has-text('Not connected')", timeout=8000)  # told, not queued
    server.start_bridge()
    page.wait_for_selector("#conn[data-status=open]", timeout=8000)
    time.sleep(1.5)  # what a late send would have changed by now
    assert page.text_content("#pb-title") == "Hour 1"
    # A press made now works at once.
    page.click("#pb-next")
    page.wait_for_function("() => document.getElementById('pb-title').textContent === 'Hour 2'", timeout=3000)
