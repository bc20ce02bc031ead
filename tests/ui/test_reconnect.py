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
