"""Playlists, favourites (stars) and the Subsonic apps panel, from the browser."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

from .conftest import LONG_ALBUM


def open_album(page, title: str) -> None:
    """The album called ``title``, through search: after the scan test adds hundreds of
    albums, it may be past the albums grid's first page."""
    page.fill("#search", title)
    page.click(f".search-results .album-card[title='{title}']")
    page.wait_for_selector("#album-play")


def answer_app_dialog(page, text: str | None = None) -> None:
    """Answer the app's own dialog (a <dialog>: no native prompt or confirm is left): type
    ``text`` when it asks for one, then press its main button."""
    page.wait_for_selector("dialog.dlg[open]")
    if text is not None:
        page.fill("dialog.dlg input", text)
    page.click("dialog.dlg .dlg-actions button:last-child")
    page.wait_for_selector("dialog.dlg", state="detached")


def test_playlists_create_add_reorder_remove_delete(pages):
    page = pages.open("carol")
    name = f"Road trip {time.monotonic_ns() % 10**6}"
    other = f"Night drive {time.monotonic_ns() % 10**6}"
    assert page.locator(".nav-soon").count() == 0
    # Create one from the playlists view: it opens, empty.
    page.click("a[data-nav=playlists]")
    page.fill("#playlist-new-name", name)
    page.click("#playlist-create")
    page.wait_for_selector(f"#playlist-name:has-text('{name}')")
    page.wait_for_selector(".view:has-text('This playlist is empty')")
    # Add tracks from an album's track rows, through the small menu.
    open_album(page, LONG_ALBUM)
    for title in ("Hour 2", "Hour 3"):
        row = page.locator(".track-row", has_text=title)
        row.hover()
        row.locator(".tr-addpl").click()
        page.locator(".pl-menu .pl-menu-item", has_text=name).click()
        page.wait_for_selector(f".toast:has-text('Added 1 track to {name}')")
        page.wait_for_selector(".pl-menu", state="detached")
    # "New playlist…" in the menu makes another, holding that track.
    row = page.locator(".track-row", has_text="Hour 1")
    row.hover()
    row.locator(".tr-addpl").click()
    page.click(".pl-menu .pl-menu-new")
    answer_app_dialog(page, other)
    page.wait_for_selector(f".toast:has-text('Created {other}')")
    # The playlist view lists both; open the first.
    page.click("a[data-nav=playlists]")
    page.wait_for_selector(f".pl-row:has-text('{other}')")
    page.click(f".pl-row:has-text('{name}')")
    page.wait_for_selector(".pl-tracks .track-row:has-text('Hour 3')")
    titles = lambda: page.locator(".pl-tracks .tr-title").all_text_contents()  # noqa: E731
    assert titles() == ["Hour 2", "Hour 3"]
    # Reorder with the buttons, then by dragging.
    rows = page.locator(".pl-tracks .track-row")
    rows.nth(1).hover()
    rows.nth(1).locator(".pl-up").click()
    page.wait_for_function("() => document.querySelector('.pl-tracks .tr-title').textContent === 'Hour 3'")
    rows.nth(1).drag_to(rows.nth(0))
    page.wait_for_function("() => document.querySelector('.pl-tracks .tr-title').textContent === 'Hour 2'")
    # Play it: the queue is the playlist.
    page.click("#playlist-play")
    page.wait_for_function("() => document.getElementById('pb-title').textContent === 'Hour 2'")
    # Remove an entry.
    rows.nth(0).hover()
    rows.nth(0).locator(".pl-remove").click()
    page.wait_for_function("() => document.querySelectorAll('.pl-tracks .track-row').length === 1")
    assert titles() == ["Hour 3"]
    # Delete it: back to the list, without it.
    page.click("#playlist-delete")
    answer_app_dialog(page)
    page.wait_for_url("**/#/playlists")
    page.wait_for_selector(f".pl-row:has-text('{other}')")
    assert page.locator(".pl-row", has_text=name).count() == 0
    assert page.errors == []


def test_star_a_track_and_an_album_and_see_them_in_favourites(pages):
    page = pages.open("carol")
    page.click("a[data-nav=favourites]")
    page.wait_for_selector("h1:has-text('Favourites')")
    open_album(page, LONG_ALBUM)
    row = page.locator(".track-row", has_text="Hour 1")
    row.hover()
    row.locator(".tr-fav .star").click()
    page.wait_for_selector(".track-row:has-text('Hour 1') .star.on[aria-pressed=true]")
    page.click(".album-info .star")
    page.wait_for_selector(".album-info .star.on")
    page.click("a[data-nav=favourites]")
    page.wait_for_selector(".fav-tracks .track-row:has-text('Hour 1') .star.on")
    page.wait_for_selector(f".fav-albums .chip:has-text('{LONG_ALBUM}')")
    # Stars survive a reload; unstarring from the favourites view takes effect.
    page.reload()
    page.wait_for_selector("#conn[data-status=open]")
    page.wait_for_selector(".fav-tracks .track-row:has-text('Hour 1')")
    page.locator(".fav-tracks .track-row", has_text="Hour 1").locator(".star").click()
    page.wait_for_selector(".fav-tracks .track-row:has-text('Hour 1') .star:not(.on)")
    page.click("a[data-nav=albums]")
    page.click("a[data-nav=favourites]")
    page.wait_for_selector(f".fav-albums .chip:has-text('{LONG_ALBUM}')")
    assert page.locator(".fav-tracks .track-row", has_text="Hour 1").count() == 0
    assert page.errors == []


def test_subsonic_panel_shows_and_regenerates_the_password(pages, server):
    page = pages.open("carol")
    page.click("a[data-nav=subsonic]")
    page.wait_for_selector("#subsonic-panel")
    assert page.text_content("#subsonic-username") == "carol"
    assert page.text_content("#subsonic-server").startswith(server.base_url)
    box = "#subsonic-password-box"
    if not page.get_attribute(box, "data-password"):
        page.click("#subsonic-regenerate")  # no password yet: make one
        page.wait_for_function(f"() => document.querySelector('{box}').dataset.password")
    first = page.get_attribute(box, "data-password")
    page.click("#subsonic-regenerate")
    answer_app_dialog(page)  # "make a new password?"
    page.wait_for_function(f"() => (p => p && p !== {json.dumps(first)})(document.querySelector('{box}').dataset.password)")
    second = page.get_attribute(box, "data-password")
    assert page.text_content("#subsonic-password") == second  # shown after regenerating
    # The new password works for a Subsonic app; the old one no longer does.
    def ping(password):
        query = urllib.parse.urlencode({"u": "carol", "p": password, "v": "1.16.1", "c": "ui-test", "f": "json"})
        with urllib.request.urlopen(f"{server.base_url}/rest/ping?{query}", timeout=10) as response:
            return json.load(response)["subsonic-response"]["status"]
    assert ping(second) == "ok"
    assert ping(first) == "failed"
    # Shown again (hidden by default) after a reload.
    page.reload()
    page.wait_for_selector("#subsonic-panel")
    assert page.get_attribute(box, "data-password") == second
    page.click("#subsonic-show")
    page.wait_for_selector(f"#subsonic-password:has-text('{second}')")
    assert page.errors == []
