"""Two tabs of one browser are one device with one audio output: the other tab is a remote,
and takes the output over when the playing tab closes."""
from __future__ import annotations

import time

from .conftest import LONG_ALBUM, audio_state, open_album, wait_audio


def second_tab(pages, first):
    """Another tab in the same browser (same cookies and localStorage)."""
    tab = first.context.new_page()
    tab.errors = []
    tab.csp_violations = first.csp_violations
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    pages.pages.append(tab)
    tab.goto(pages.server.base_url + "/")
    tab.wait_for_selector("#conn[data-status=open]")
    tab.wait_for_function("() => !document.getElementById('device-name').textContent.includes('…')")
    return tab


def test_one_audio_output_per_device_and_the_other_tab_takes_over(pages, server):
    name = f"Two tabs {time.monotonic_ns() % 10**6}"
    first = pages.open("bob", device=name)
    second = second_tab(pages, first)
    assert second.text_content("#device-name") == name  # one device, not two
    open_album(first, LONG_ALBUM)
    first.click("#album-play")
    wait_audio(first, "!a.paused && a.currentTime > 1")
    # The second tab shows the same player, playing, but outputs nothing.
    second.wait_for_selector("#playerbar[data-playing=true]")
    assert second.text_content("#pb-title") == "Hour 1"
    time.sleep(1.0)
    state = audio_state(second)
    assert state["paused"] and state["src"] is None, state
    second.click("a[data-nav=devices]")
    second.wait_for_selector(f".device-card[data-device='{name}'] .badge:has-text('audio in another tab')")
    # Its buttons act on the device: pause and play in the other tab.
    second.click("#pb-play")
    wait_audio(first, "a.paused", timeout=2000)
    second.click("#pb-play")
    wait_audio(first, "!a.paused", timeout=2000)
    assert audio_state(second)["paused"]
    # Close the playing tab: the second one takes the output over, where the music was.
    position = audio_state(first)["time"]
    first.close()
    pages.pages.remove(first)
    closed = time.monotonic()
    wait_audio(second, "!a.paused && a.readyState >= 2 && a.currentTime > 0", timeout=5000)
    elapsed = time.monotonic() - closed
    assert abs(audio_state(second)["time"] - (position + elapsed)) < 1.5
    second.wait_for_selector(f".device-card[data-device='{name}']:not(:has(.badge:has-text('audio in another tab')))")
    assert second.errors == []


def test_tabs_of_different_browsers_each_play(pages):
    """Different browsers (contexts) are different devices: each has its own output."""
    first = pages.open("bob")
    other = pages.open("bob")
    assert first.text_content("#device-name") != other.text_content("#device-name")
    for page in (first, other):
        open_album(page, LONG_ALBUM)
        page.click("#album-play")
    wait_audio(first, "!a.paused && a.currentTime > 0.5")
    wait_audio(other, "!a.paused && a.currentTime > 0.5")
