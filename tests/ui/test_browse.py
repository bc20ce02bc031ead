"""Logging in, browsing, playing, searching, the queue and the keyboard."""
from __future__ import annotations

import re

from .conftest import LONG_ALBUM, PASSWORD, audio_state, open_album, wait_audio


def test_login_required_and_wrong_password(pages, server):
    page = pages.open(login=False)
    page.goto(server.base_url + "/")
    assert "/login/" in page.url
    page.fill("#id_username", "bob")
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector(".form-error")
    assert "/login/" in page.url


def test_log_in_and_see_the_albums(pages, server):
    page = pages.open(login=False)
    pages.login(page, "bob", PASSWORD)
    page.wait_for_selector(".album-card")
    titles = page.locator(".album-card .card-title").all_text_contents()
    assert LONG_ALBUM in titles and len(titles) >= 5
    # Playlists and favourites are in the navigation.
    assert page.locator("a[data-nav=playlists]").count() == 1
    assert page.locator("a[data-nav=favourites]").count() == 1
    # Not staff: no libraries view.
    assert page.locator("a[data-nav=libraries]").count() == 0
    assert page.errors == []


def test_log_out(pages, server):
    page = pages.open("bob")
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login/"))
    page.goto(server.base_url + "/")
    assert "/login/" in page.url


def test_album_page_plays_a_track(pages):
    page = pages.open("bob")
    open_album(page, LONG_ALBUM)
    assert page.locator(".track-row").count() == 3
    row = page.locator(".track-row", has_text="Hour 2")
    row.hover()
    row.locator(".tr-play").click()
    wait_audio(page, "!a.paused && a.currentTime > 0.5")
    start = audio_state(page)["time"]
    page.wait_for_timeout(1500)
    state = audio_state(page)
    assert state["time"] > start + 0.8, state
    assert re.search(r"/api/v1/tracks/\d+/stream$", state["src"])
    assert page.text_content("#pb-title") == "Hour 2"
    page.wait_for_selector("#playerbar[data-playing=true]")
    # Pause from the bar: the server's state changes and the audio follows.
    page.click("#pb-play")
    wait_audio(page, "a.paused")
    page.wait_for_selector("#playerbar[data-playing=false]")
    assert page.errors == []


def test_seek_bar_moves_the_audio(pages):
    page = pages.open("bob")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    page.evaluate("() => { const s = document.getElementById('pb-seek'); s.value = 120; s.dispatchEvent(new Event('change')); }")
    wait_audio(page, "a.currentTime > 119 && a.currentTime < 125")
    assert page.text_content("#pb-pos").startswith("2:0")


def test_search_as_you_type_finds_a_track(pages):
    page = pages.open("bob")
    page.click("#search")
    page.keyboard.type("hour 3", delay=40)
    page.wait_for_selector(".search-results .track-row:has-text('Hour 3')")
    assert "#/search/" in page.url
    # Play it from the results.
    row = page.locator(".search-results .track-row", has_text="Hour 3")
    row.hover()
    row.locator(".tr-play").click()
    page.wait_for_function("() => document.getElementById('pb-title').textContent === 'Hour 3'")
    wait_audio(page, "!a.paused && a.currentTime > 0.2")


def test_search_finds_artists_and_albums(pages):
    page = pages.open("bob")
    page.fill("#search", "long play")
    page.wait_for_selector(".search-results .chip:has-text('Long Player')")
    page.wait_for_selector(f".search-results .album-card[title='{LONG_ALBUM}']")
    page.fill("#search", "zzzzqqq")
    page.wait_for_selector(".search-results:has-text('Nothing found')")


def test_browse_artists_and_genres(pages):
    page = pages.open("bob")
    page.click("a[data-nav=artists]")
    page.click(".artist-row:has-text('Long Player')")
    page.wait_for_selector(f".album-card[title='{LONG_ALBUM}']")
    page.click("a[data-nav=genres]")
    page.click(".chip:has-text('Ambient')")
    page.wait_for_selector(f".album-card[title='{LONG_ALBUM}']")


def test_queue_panel_reorder_remove_and_play_next(pages):
    page = pages.open("bob")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    page.click("#pb-queue")
    rows = page.locator(".queue .q-row")
    page.wait_for_function("() => document.querySelectorAll('.queue .q-row').length === 3")
    page.wait_for_selector(".queue .q-row:nth-child(3) .q-title:has-text('Hour 3')")
    # Drag "Hour 3" to the top.
    page.locator(".queue .q-row").nth(2).locator(".q-handle").drag_to(page.locator(".queue .q-row").nth(0), target_position={"x": 10, "y": 3})
    page.wait_for_function("() => document.querySelector('.queue .q-row .q-title').textContent === 'Hour 3'")
    assert rows.nth(1).get_attribute("class").find("current") >= 0  # Hour 1 still plays
    # Remove the last entry.
    rows.nth(2).hover()
    rows.nth(2).locator(".q-remove").click()
    page.wait_for_function("() => document.querySelectorAll('.queue .q-row').length === 2")
    # Add the album again, after the current track.
    page.click("text=Play next")
    page.wait_for_function("() => document.querySelectorAll('.queue .q-row').length === 5")
    titles = page.locator(".queue .q-title").all_text_contents()
    assert titles == ["Hour 3", "Hour 1", "Hour 1", "Hour 2", "Hour 3"], titles
    # Play an entry from the queue.
    rows.nth(4).locator(".q-main").click()
    page.wait_for_function("() => document.querySelector('.queue .q-row.current .q-title').textContent === 'Hour 3'"
                           " && document.querySelectorAll('.queue .q-row')[4].classList.contains('current')")


def test_keyboard_space_and_arrows(pages):
    page = pages.open("bob")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    page.locator("#view h1").click()  # focus away from buttons
    page.keyboard.press("Space")
    wait_audio(page, "a.paused")
    page.keyboard.press("Space")
    wait_audio(page, "!a.paused")
    before = audio_state(page)["time"]
    page.keyboard.press("ArrowRight")  # the page has focus: the arrows scroll it, the track goes on
    page.wait_for_timeout(300)
    assert audio_state(page)["time"] < before + 5
    page.locator("#pb-title").click()  # the player has focus: the arrows seek and set the volume
    before = audio_state(page)["time"]
    page.keyboard.press("ArrowRight")
    wait_audio(page, f"a.currentTime > {before + 8}")
    page.keyboard.press("ArrowDown")
    wait_audio(page, "Math.abs(a.volume - 0.95) < 0.01")
    page.keyboard.press("ArrowUp")
    wait_audio(page, "a.volume === 1")


def test_phone_sized_screen(pages):
    page = pages.open("bob", viewport={"width": 390, "height": 780})
    page.wait_for_selector(".album-card")
    assert not page.locator(".sidebar").is_visible() or page.locator(".sidebar").bounding_box()["x"] < 0
    page.click("#nav-open")
    page.click("a[data-nav=artists]")
    page.wait_for_selector(".artist-row")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    assert page.locator("#pb-play").is_visible()
