"""Screenshots of the main views, checked to stay under ~200 KB each.

A normal run writes them to test-artifacts/screenshots/ (git-ignored); with
UI_SCREENSHOTS=1 they replace the ones in docs/screenshots/:

    UI_SCREENSHOTS=1 .venv/bin/pytest tests/ui/test_screenshots.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, LONG_ALBUM, ROOT, UIServer, open_album, running, wait_audio

SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("UI_SCREENSHOTS") == "1" else ARTIFACTS / "screenshots"
MAX_BYTES = 200 * 1024


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """A server of this module's own: the fuller library the pictures need would push the
    albums other modules look for off the first page of the shared server."""
    yield from running(UIServer(Path(tmp_path_factory.mktemp("ui-screenshots"))))


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("() => document.getElementById('toasts').replaceChildren()")
    page.wait_for_timeout(400)  # covers and fades
    page.screenshot(path=str(path))
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
    return path


def test_screenshots(pages, server):
    from library.sample import make_sample_library

    # A fuller library for the pictures.
    make_sample_library(server.music / "More", count=160, seed=3)
    server.manage("scan")

    kitchen = pages.open("dana", device="Kitchen speaker")
    open_album(kitchen, "The Comet")
    kitchen.click("#album-play")
    kitchen.click("#pb-repeat")  # repeat all: it keeps playing while we take the pictures
    phone = pages.open("dana", device="Phone")
    page = pages.open("dana", device="Laptop")

    page.wait_for_selector(".album-card img")
    shoot(page, "library")

    open_album(page, LONG_ALBUM)
    shoot(page, "album")

    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 1")
    open_album(page, "River of the Thunder")
    page.click("text=Add to queue")
    page.click("#pb-queue")
    page.wait_for_selector(".queue .q-row:nth-child(10)")
    page.wait_for_timeout(2500)
    shoot(page, "player-queue")
    page.click("#pb-queue")

    page.click("a[data-nav=devices]")
    page.wait_for_selector(".device-card[data-device='Kitchen speaker'] .dev-status[data-status=playing]")
    page.wait_for_selector(".device-card[data-device='Phone']")
    shoot(page, "devices")

    page.click("a[data-nav=songs]")
    page.wait_for_selector(".songs-body .songs-row:nth-child(20)")
    rows = page.locator(".songs-body .songs-row")
    rows.nth(2).locator(".sg-title").click()
    rows.nth(5).locator(".sg-title").click(modifiers=["Shift"])
    page.wait_for_selector("#songs-selected")
    shoot(page, "songs")

    page.fill("#search", "the")
    page.wait_for_selector(".search-tracks .track-row")
    page.wait_for_selector(".search-albums .album-card img")
    page.evaluate("() => document.activeElement.blur()")
    shoot(page, "search")

    page.set_viewport_size({"width": 390, "height": 780})
    page.click("#nav-open")
    page.click("a[data-nav=albums]")
    page.wait_for_selector(".album-card img")
    shoot(page, "phone")
    page.goto(page.url.split("#")[0] + "#/search/river%20of%20the%20thunder")
    page.click(".search-albums .album-card[title='River of the Thunder']")
    page.wait_for_selector("#album-play")
    page.locator(".track-row").nth(1).locator(".tr-more").click()
    page.wait_for_selector(".track-menu")
    shoot(page, "phone-track-menu")
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.click("#pb-play")  # quiet for the scan
    make_sample_library(server.music / "Big Box", count=3000, seed=11)
    page.click("a[data-nav=libraries]")
    page.locator(".library-card [data-act=scan]").first.click()
    page.wait_for_selector(".library-card[data-status=running] .progress")
    page.wait_for_function("() => Number(document.querySelector('.library-card [data-counter=added] strong').textContent) > 0", timeout=30000)
    shoot(page, "scan-progress")
    page.wait_for_selector(".library-card[data-status=completed]", timeout=120000)
    assert phone and kitchen
