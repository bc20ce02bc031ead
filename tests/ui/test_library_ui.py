"""Browsing at scale, as a user does it, on desktop and phone sizes: Back keeps the place in
long lists, album orders and filters, the songs table and its selection, search with letter
folding and "show all", the always visible track menu (tap plays, info, ratings, lyrics,
downloads), the app's own dialogs, the shuffled queue, the keyboard.

These run against their own server with a larger generated library (300 sample tracks, an
album by "Łódź Quartet" with timed lyrics), so the lists here are long."""
from __future__ import annotations

import io
import math
import re
import time
import wave
import zipfile
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, PASSWORD, Pages, UIServer, audio_state, running, wait_audio

PHONE = {"width": 390, "height": 780}
CITY_ALBUM = "Nocturnes"
CITY_ARTIST = "Łódź Quartet"
LYRICS = "[00:00.00]First line\n[00:01.50]Second line\n[00:03.00]Third line\n[00:30.00]Last line\n"


def write_city_album(root: Path) -> None:
    """Three 40-second WAV tracks by "Łódź Quartet"; the first has timed (LRC) lyrics."""
    from mutagen.id3 import TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK, USLT
    from mutagen.wave import WAVE

    folder = root / CITY_ARTIST / CITY_ALBUM
    folder.mkdir(parents=True)
    rate = 8000
    second = bytes(128 + int(20 * math.sin(2 * math.pi * 330 * i / rate)) for i in range(rate))
    for number, title in enumerate(["Øresund Night", "Đurđevdan", "Þórsmörk"], 1):
        path = folder / f"{number:02d} {title}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(1)
            out.setframerate(rate)
            out.writeframes(second * 40)
        tags = WAVE(path)
        tags.add_tags()
        frames = [TIT2(encoding=3, text=title), TPE1(encoding=3, text=CITY_ARTIST), TPE2(encoding=3, text=CITY_ARTIST),
                  TALB(encoding=3, text=CITY_ALBUM), TRCK(encoding=3, text=str(number)), TCON(encoding=3, text="Chamber"),
                  TDRC(encoding=3, text="1961")]
        if number == 1:
            frames.append(USLT(encoding=3, lang="eng", desc="", text=LYRICS))
        for frame in frames:
            tags.tags.add(frame)
        tags.save()


class BigServer(UIServer):
    def prepare(self) -> None:
        from library.sample import make_sample_library

        make_sample_library(self.music, count=300, seed=11)
        write_city_album(self.music)
        self.manage("migrate", "--noinput")
        self.shell("from django.contrib.auth.models import User; "
                   f"User.objects.create_user('erin', password={PASSWORD!r}); "
                   f"User.objects.create_user('root', password={PASSWORD!r}, is_staff=True)")
        self.manage("library", "add", "--name", "Music", "--interval", "0", str(self.music))
        self.manage("scan")


@pytest.fixture(scope="module")
def big(browser, tmp_path_factory):
    yield from running(BigServer(Path(tmp_path_factory.mktemp("ui-big"))))


@pytest.fixture
def tabs(browser, big, request):
    opened = Pages(browser, big)
    native = []
    yield opened, native
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    violations = opened.csp_violations()
    opened.close(request.node.name if failed or violations else None)
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{request.node.name}-bridge.log").write_text(big.log("bridge")[-5000:])
    assert violations == [], f"Content-Security-Policy violations: {violations}"
    for page in opened.pages:
        assert page.errors == [], page.errors


def open_page(tabs, username="erin", **kw):
    """A signed-in page that fails the test on any native dialog (prompt, confirm, alert)."""
    opened, native = tabs
    page = opened.open(username, **kw)
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    return page


def scroller_top(page) -> int:
    return page.evaluate("() => document.getElementById('view').scrollTop")


# -- Back keeps the place -------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_back_keeps_the_loaded_pages_and_the_scroll_position(tabs, viewport):
    page = open_page(tabs, viewport=viewport)
    page.goto(page.url.split("#")[0] + "#/songs")
    page.wait_for_selector(".songs-body .songs-row")
    # Scroll until four pages (240 rows) are loaded.
    for _ in range(40):
        if page.locator(".songs-body .songs-row").count() >= 240:
            break
        page.evaluate("() => { const v = document.getElementById('view'); v.scrollTop = v.scrollHeight; }")
        page.wait_for_timeout(150)
    page.evaluate("() => { const v = document.getElementById('view'); v.scrollTop = v.scrollHeight * 0.7; }")
    page.wait_for_timeout(400)
    loaded = page.locator(".songs-body .songs-row").count()
    assert loaded >= 240
    place = scroller_top(page)
    # The first row in sight, then leave through its album link.
    seen = page.evaluate("""() => { const v = document.getElementById('view').getBoundingClientRect();
        return [...document.querySelectorAll('.songs-body .songs-row')].find(r => r.getBoundingClientRect().top >= v.top + 60).dataset.index; }""")
    row = page.locator(f".songs-body .songs-row[data-index='{seen}']")
    if viewport:
        row.locator(".tr-more").click()
        page.click(".track-menu [data-item=album]")
    else:
        row.locator(".sg-album a").click()
    page.wait_for_selector("#album-play")
    page.go_back()
    page.wait_for_function(f"() => document.querySelectorAll('.songs-body .songs-row').length >= {loaded}")
    page.wait_for_function(f"() => Math.abs(document.getElementById('view').scrollTop - {place}) < 5")
    assert page.locator(f".songs-body .songs-row[data-index='{seen}']").is_visible()
    # A fresh visit (the navigation link) starts at the top with one page.
    page.click("#nav-open") if viewport else None
    page.click("a[data-nav=albums]")
    page.wait_for_selector(".album-card")
    page.click("#nav-open") if viewport else None
    page.click("a[data-nav=songs]")
    page.wait_for_selector(".songs-body .songs-row")
    page.wait_for_timeout(300)
    assert scroller_top(page) < 5 and page.locator(".songs-body .songs-row").count() == 60


def test_back_to_the_album_list_keeps_its_order_and_place(tabs):
    page = open_page(tabs, viewport=PHONE)
    page.goto(page.url.split("#")[0] + "#/albums?order=random")
    page.wait_for_selector(".album-card")
    page.evaluate("() => { const v = document.getElementById('view'); v.scrollTop = v.scrollHeight / 2; }")
    page.wait_for_timeout(400)
    place = scroller_top(page)
    assert place > 200
    order = page.locator(".album-card .card-title").all_text_contents()
    card = page.evaluate("""() => { const v = document.getElementById('view').getBoundingClientRect();
        return [...document.querySelectorAll('.album-card')].find(c => c.getBoundingClientRect().top >= v.top).title; }""")
    page.click(f".album-card[title='{card}'] .card-title")
    page.wait_for_selector("#album-play")
    page.go_back()
    page.wait_for_function(f"() => Math.abs(document.getElementById('view').scrollTop - {place}) < 5")
    assert page.locator(".album-card .card-title").all_text_contents() == order  # the same shuffle


# -- album orders and filters -------------------------------------------------------------------------


def card_years(page) -> list[int]:
    subs = page.locator(".album-card .card-sub").all_text_contents()
    return [int(m.group(1)) for m in (re.search(r"(\d{4})$", s) for s in subs) if m]


def card_years_once(page, condition, timeout: float = 10.0) -> list[int]:
    """The cards' years once ``condition(years)`` holds (the list re-renders after a change
    of order or range: the old cards may still be there, or none yet), else the last seen."""
    deadline = time.monotonic() + timeout
    while not condition(years := card_years(page)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return years


def test_album_orders_descending_and_year_range(tabs):
    page = open_page(tabs)
    page.click("a[data-nav=albums]")
    page.select_option("#album-order", "year")
    page.wait_for_url(re.compile(r"#/albums\?order=year$"))
    page.wait_for_selector(".album-card")
    years = card_years_once(page, lambda ys: ys and ys == sorted(ys) and ys[0] == 1961)
    assert years == sorted(years) and years[0] == 1961  # Łódź Quartet's, the oldest
    page.click("#album-desc")
    page.wait_for_url(re.compile(r"desc=1"))
    page.wait_for_function("() => document.querySelector('#album-desc').getAttribute('aria-pressed') === 'true'")
    years = card_years_once(page, lambda ys: ys and ys == sorted(ys, reverse=True))
    assert years and years == sorted(years, reverse=True)
    page.fill("#album-from", "1990")
    page.press("#album-from", "Enter")
    page.wait_for_url(re.compile(r"from=1990"))
    page.fill("#album-to", "2000")
    page.press("#album-to", "Enter")
    page.wait_for_url(re.compile(r"to=2000"))
    in_range = lambda ys: ys and all(1990 <= y <= 2000 for y in ys) and ys == sorted(ys, reverse=True)  # noqa: E731
    years = card_years_once(page, in_range)
    assert in_range(years), years
    # A genre: the same controls on the genre's page.
    page.goto(page.url.split("#")[0] + "#/albums?order=year")
    page.wait_for_selector("#album-genre option[value=Chamber]", state="attached")
    page.select_option("#album-genre", "Chamber")
    page.wait_for_url(re.compile(r"#/genre/Chamber\?order=year$"))
    page.wait_for_selector(f".album-card[title='{CITY_ALBUM}']")
    assert page.locator(".album-card").count() == 1
    # The user's own: nothing starred yet, then the one starred.
    page.goto(page.url.split("#")[0] + "#/albums?order=starred")
    page.wait_for_selector("p.empty:has-text('None yet')")
    page.goto(page.url.split("#")[0] + f"#/search/{CITY_ALBUM}")
    page.click(f".album-card[title='{CITY_ALBUM}']")
    page.click(".album-info .star")
    page.wait_for_selector(".album-info .star.on")
    page.goto(page.url.split("#")[0] + "#/albums?order=starred")
    page.wait_for_selector(f".album-card[title='{CITY_ALBUM}']")
    assert page.locator(".album-card").count() == 1


# -- search --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_search_folds_letters_and_shows_the_best_of_each_kind_first(tabs, viewport):
    page = open_page(tabs, viewport=viewport)
    page.fill("#search", "lodz")
    page.wait_for_selector(f".search-artists .chip:has-text('{CITY_ARTIST}')")
    sections = page.evaluate("() => [...document.querySelectorAll('.search-section')].map(s => s.className.match(/search-(\\w+)$/)[1])")
    assert sections == ["artists", "albums", "tracks"]
    page.fill("#search", "lodz quartet")
    page.wait_for_function("() => document.querySelectorAll('.search-tracks .track-row').length === 3")
    page.fill("#search", "oresund")
    page.wait_for_selector(".search-tracks .track-row:has-text('Øresund Night')")
    # A broad word: a preview of each kind, then "Show all" pages through every match.
    page.fill("#search", "the")
    page.wait_for_selector(".search-tracks .show-all")
    assert page.locator(".search-tracks .track-row").count() == 10
    total = int(re.search(r"\d+", page.locator(".search-tracks h2 .muted").text_content()).group())
    assert total > 60
    page.click(".search-tracks .show-all")
    page.wait_for_url(re.compile(r"kind=tracks"))
    page.wait_for_selector(".search-all .track-row")
    for _ in range(30):
        if page.locator(".search-all .track-row").count() >= min(total, 120):
            break
        page.evaluate("() => { const v = document.getElementById('view'); v.scrollTop = v.scrollHeight; }")
        page.wait_for_timeout(150)
    assert page.locator(".search-all .track-row").count() >= min(total, 120)
    page.click("#search-back")
    page.wait_for_selector(".search-tracks .show-all")


# -- the track menu, tap plays, info, ratings, lyrics, downloads ---------------------------------------------


def open_city_album(page) -> None:
    page.goto(page.url.split("#")[0] + f"#/search/{CITY_ALBUM}")
    page.click(f".album-card[title='{CITY_ALBUM}']")
    page.wait_for_selector("#album-play")


def test_phone_a_tap_plays_and_the_menu_is_always_there(tabs):
    page = open_page(tabs, viewport=PHONE)
    open_city_album(page)
    row = page.locator(".track-row", has_text="Đurđevdan")
    more = row.locator(".tr-more")
    assert more.is_visible()  # no hover needed
    assert not row.locator(".tr-actions").is_visible()  # the desktop quick buttons give way to the menu
    row.locator(".tr-title").click()  # a tap on the row
    page.wait_for_function("() => document.getElementById('pb-title').textContent === 'Đurđevdan'")
    wait_audio(page, "!a.paused && a.currentTime > 0.3")
    more.click()
    items = page.locator(".track-menu [role=menuitem]").all_text_contents()
    assert {"Play next", "Add to queue", "Add to playlist…", "Track info", "Lyrics", "Download", "Rate…"} <= set(items)
    box = page.locator(".track-menu").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    page.click(".track-menu [data-item=queue]")
    page.wait_for_selector(".toast:has-text('Added 1 track to the queue')")


def test_track_info_shows_the_path_to_staff_only_and_ratings_stick(tabs, big):
    page = open_page(tabs)
    open_city_album(page)
    row = page.locator(".track-row", has_text="Þórsmörk")
    row.locator(".tr-more").click()
    page.click(".track-menu [data-item=info]")
    page.wait_for_selector("#track-info dd[data-field=format]")
    assert page.text_content("#track-info dd[data-field=format]").startswith("WAV")
    assert page.text_content("#track-info dd[data-field=sample-rate]") == "8.0 kHz"
    assert page.locator("#track-info dd[data-field=path]").count() == 0
    page.locator("#track-info .rate").nth(3).click()  # four stars
    page.wait_for_selector("#track-info .rating[data-rating='4']")
    page.keyboard.press("Escape")
    page.wait_for_selector("#track-info", state="detached")
    page.reload()
    page.wait_for_selector("#album-play")
    page.locator(".track-row", has_text="Þórsmörk").locator(".tr-more").click()
    page.click(".track-menu [data-item=rate]")
    page.wait_for_selector("#rate-dialog .rating[data-rating='4']")
    admin = open_page(tabs, "root")
    open_city_album(admin)
    admin.locator(".track-row", has_text="Þórsmörk").locator(".tr-more").click()
    admin.click(".track-menu [data-item=info]")
    path = admin.text_content("#track-info dd[data-field=path]")
    assert path == str(big.music / CITY_ARTIST / CITY_ALBUM / "03 Þórsmörk.wav")


def test_synced_lyrics_follow_the_playback_position(tabs):
    page = open_page(tabs)
    open_city_album(page)
    row = page.locator(".track-row", has_text="Øresund Night")
    row.hover()
    row.locator(".tr-play").click()
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    row.locator(".tr-more").click()
    page.click(".track-menu [data-item=lyrics]")
    page.wait_for_selector("#lyrics .lyrics.synced")
    assert page.locator("#lyrics .lyric-line").all_text_contents() == ["First line", "Second line", "Third line", "Last line"]
    page.wait_for_selector("#lyrics .lyric-line.current:has-text('Second line')", timeout=5000)
    page.wait_for_selector("#lyrics .lyric-line.current:has-text('Third line')", timeout=5000)
    assert page.locator("#lyrics .lyric-line.current").count() == 1
    page.click("#lyrics [data-action=close]")
    page.wait_for_selector("#lyrics", state="detached")
    # From the player bar, for whatever plays now.
    page.click("#pb-lyrics")
    page.wait_for_selector("#lyrics .lyric-line.current:has-text('Third line')")


def test_downloads_a_track_and_an_album(tabs, big):
    page = open_page(tabs)
    open_city_album(page)
    page.locator(".track-row", has_text="Đurđevdan").locator(".tr-more").click()
    with page.expect_download() as got:
        page.click(".track-menu [data-item=download]")
    track = got.value
    assert track.suggested_filename == "Łódź Quartet - Đurđevdan.wav"
    assert Path(track.path()).read_bytes() == (big.music / CITY_ARTIST / CITY_ALBUM / "02 Đurđevdan.wav").read_bytes()
    with page.expect_download() as got:
        page.click("#album-download")
    album = got.value
    assert album.suggested_filename == f"{CITY_ARTIST} - {CITY_ALBUM}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(album.path()).read_bytes()))
    assert [i.filename for i in archive.infolist()] == [
        f"{CITY_ARTIST} - {CITY_ALBUM}/0{n} - {t}.wav" for n, t in ((1, "Øresund Night"), (2, "Đurđevdan"), (3, "Þórsmörk"))]


# -- the songs table ------------------------------------------------------------------------------------


def test_songs_table_sorts_selects_and_adds_in_bulk(tabs):
    page = open_page(tabs)
    page.click("a[data-nav=songs]")
    page.wait_for_selector(".songs-body .songs-row")
    page.click(".songs-head [data-sort=title]")
    page.wait_for_url(re.compile(r"order=title$"))
    page.wait_for_function("() => document.querySelector('.songs-head [aria-sort=ascending] [data-sort=title]')")
    titles = page.locator(".songs-body .tr-title").all_text_contents()[:20]
    assert titles == sorted(titles, key=str.casefold) or len(set(titles)) < 20
    page.click(".songs-head [data-sort=title]")
    page.wait_for_url(re.compile(r"order=title&desc=1"))
    page.wait_for_selector(".songs-head [aria-sort=descending]")
    rows = page.locator(".songs-body .songs-row")
    chosen = [rows.nth(i).get_attribute("data-track") for i in (1, 2, 3, 4, 6)]
    rows.nth(1).locator(".sg-title").click()
    rows.nth(4).locator(".sg-title").click(modifiers=["Shift"])  # rows 1-4
    rows.nth(6).locator(".sg-title").click(modifiers=["Control"])  # and row 6
    page.wait_for_selector("#songs-selected:has-text('5 tracks selected')")
    # The keyboard: from row 6, Shift+Down adds row 7, Space takes it out again.
    page.keyboard.press("Shift+ArrowDown")
    page.wait_for_selector("#songs-selected:has-text('2 tracks selected')")  # a Shift range from the anchor (6) to 7
    page.keyboard.press("Space")
    page.wait_for_selector("#songs-selected:has-text('1 track selected')")
    assert page.locator(".songs-row.selected").get_attribute("data-index") == "6"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    page.wait_for_selector("#songs-selected:has-text('2 tracks selected')")
    assert [r.get_attribute("data-index") for r in page.locator(".songs-row.selected").all()] == ["5", "6"]
    page.keyboard.press("Escape")
    page.wait_for_selector(".bulk-bar", state="hidden")
    # Back to the mouse selection; add it to the queue in table order.
    rows.nth(1).locator(".sg-title").click()
    rows.nth(4).locator(".sg-title").click(modifiers=["Shift"])
    rows.nth(6).locator(".sg-check input").check()
    page.wait_for_selector("#songs-selected:has-text('5 tracks selected')")
    page.click("#bulk-queue")
    page.wait_for_selector(".toast:has-text('Added 5 tracks to the queue')")
    page.click("#pb-queue")
    page.wait_for_function("() => document.querySelectorAll('.queue .q-row').length === 5")
    assert [r.get_attribute("data-track") for r in page.locator(".queue .q-row").all()] == chosen
    # ...and to a new playlist, named in the app's own dialog.
    page.click("#bulk-playlist")
    page.click(".pl-menu .pl-menu-new")
    name = f"Picked {time.monotonic_ns() % 10**6}"
    page.fill("dialog.dlg input", name)
    page.click("dialog.dlg [data-action=ok]")
    page.wait_for_selector(f".toast:has-text('Created {name} with 5 tracks')")
    assert tabs[1] == []  # no native dialog


# -- playlists: the app's own dialogs ----------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_playlist_rename_describe_share_and_delete_in_app_dialogs(tabs, viewport):
    page = open_page(tabs, viewport=viewport)
    page.goto(page.url.split("#")[0] + "#/playlists")
    name = f"Draft {time.monotonic_ns() % 10**6}"
    page.fill("#playlist-new-name", name)
    page.click("#playlist-create")
    page.wait_for_selector(f"#playlist-name:has-text('{name}')")
    page.click("#playlist-edit")
    page.wait_for_selector("#playlist-dialog[open]")
    page.fill("#pl-edit-name", f"{name} final")
    page.fill("#pl-edit-comment", "For the long drive")
    page.check("#pl-edit-public")
    page.click("#playlist-dialog [data-action=save]")
    page.wait_for_selector(f"#playlist-name:has-text('{name} final')")
    page.wait_for_selector(".pl-comment:has-text('For the long drive')")
    page.wait_for_selector(".view-head .muted.small:has-text('Public playlist')")
    # Another user sees it now that it is public.
    other = open_page(tabs, "root")
    other.goto(other.url.split("#")[0] + "#/playlists")
    other.wait_for_selector(f".pl-row:has-text('{name} final')")
    # Cancelling the delete keeps it; confirming deletes it.
    page.click("#playlist-delete")
    page.click("dialog.dlg [data-action='0']")
    page.wait_for_selector("dialog.dlg", state="detached")
    assert page.locator("#playlist-name").is_visible()
    page.click("#playlist-delete")
    page.click("dialog.dlg [data-action=ok]")
    page.wait_for_url("**/#/playlists")
    page.wait_for_selector("h1:has-text('Playlists')")
    assert page.locator(".pl-row", has_text=f"{name} final").count() == 0
    assert tabs[1] == []


# -- shuffle and the keyboard -----------------------------------------------------------------------------


def test_the_queue_panel_lists_the_shuffled_play_order(tabs):
    page = open_page(tabs)
    page.goto(page.url.split("#")[0] + "#/songs")
    page.wait_for_selector(".songs-body .songs-row")
    page.click(".songs-row[data-index='0'] .sg-title")
    page.click(".songs-row[data-index='11'] .sg-title", modifiers=["Shift"])
    page.click("#bulk-play")
    wait_audio(page, "!a.paused")
    page.click("#pb-shuffle")
    page.wait_for_selector("#pb-shuffle[aria-pressed=true]")
    page.click("#pb-queue")
    page.wait_for_selector(".queue.shuffled")
    shown = [int(r.get_attribute("data-index")) for r in page.locator(".queue .q-row").all()]
    assert sorted(shown) == list(range(12)) and shown != list(range(12))
    assert page.locator(".queue .q-row").first.get_attribute("class").find("current") >= 0  # the current one leads
    # "Next" plays the entry listed after the current one.
    upcoming = page.locator(".queue .q-row").nth(1).get_attribute("data-track")
    page.click("#pb-next")
    page.wait_for_function(f"() => document.querySelector('.queue .q-row.current')?.dataset.track === '{upcoming}'")


def test_keyboard_skip_link_headings_escape_space_and_queue_reorder(tabs):
    page = open_page(tabs)
    open_city_album(page)
    # The heading of the new page has focus after a navigation.
    assert page.evaluate("() => document.activeElement.tagName + ':' + document.activeElement.textContent") == f"H1:{CITY_ALBUM}"
    page.reload()  # a fresh page: the skip link is the first stop
    page.wait_for_selector("#album-play")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    assert "#/album/" in page.url  # the router's hash is left alone
    # Play with the mouse: Space then pauses rather than pressing that button again.
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    page.wait_for_function("() => document.getElementById('announcer')?.textContent.startsWith('Now playing: Øresund Night')")
    page.keyboard.press("Space")
    wait_audio(page, "a.paused")
    assert audio_state(page)["time"] > 0.2  # paused, not restarted
    page.keyboard.press("Space")
    wait_audio(page, "!a.paused")
    # The queue: reorder an entry with the keyboard; Escape closes the panel.
    page.click("#pb-queue")
    page.wait_for_selector(".queue .q-row:nth-child(3)")
    page.locator(".queue .q-row").nth(2).locator(".q-handle").focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_function("() => [...document.querySelectorAll('.queue .q-title')].map(t => t.textContent).join('|')"
                           " === 'Øresund Night|Þórsmörk|Đurđevdan'")
    assert page.evaluate("() => document.activeElement.closest('.q-row').dataset.index") == "1"  # focus moved with it
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
