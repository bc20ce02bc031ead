"""Two browsers of one user are two devices: live state, remote control, hand-off."""
from __future__ import annotations

import json
import time

from .conftest import LONG_ALBUM, audio_state, open_album, wait_audio


def device_card(page, name):
    return page.locator(f".device-card[data-device='{name}']")


def two_devices(pages, user="carol"):
    tag = str(time.monotonic_ns())[-6:]
    first = pages.open(user, device=f"Laptop {tag}")
    second = pages.open(user, device=f"Phone {tag}")
    return first, second, f"Laptop {tag}", f"Phone {tag}"


def test_devices_panel_lists_other_devices_live(pages):
    laptop, phone, laptop_name, phone_name = two_devices(pages)
    open_album(laptop, LONG_ALBUM)
    laptop.click("#album-play")
    wait_audio(laptop, "!a.paused && a.currentTime > 0.2")
    phone.click("a[data-nav=devices]")
    card = device_card(phone, laptop_name)
    card.wait_for()
    phone.wait_for_selector(f".device-card[data-device='{laptop_name}'] .dev-status[data-status=playing]")
    phone.wait_for_selector(f".device-card[data-device='{laptop_name}'] .dev-now:has-text('Hour 1')")
    assert phone.locator(f".device-card[data-device='{phone_name}'] .badge", has_text="this device").count() == 1


def test_pause_on_one_device_shows_paused_on_the_other_within_a_second(pages):
    laptop, phone, laptop_name, _ = two_devices(pages)
    open_album(laptop, LONG_ALBUM)
    laptop.click("#album-play")
    wait_audio(laptop, "!a.paused && a.currentTime > 0.2")
    # The phone controls the laptop from its devices panel.
    phone.click("#pb-devices")
    device_card(phone, laptop_name).locator("[data-act=control]").click()
    phone.wait_for_function("() => document.getElementById('pb-title').textContent === 'Hour 1'")
    phone.wait_for_selector("#playerbar[data-playing=true]")
    assert laptop_name in phone.text_content("#pb-target")
    phone.click("#pb-play")  # pause the laptop
    started = time.monotonic()
    wait_audio(laptop, "a.paused", timeout=1000)
    laptop.wait_for_selector("#playerbar[data-playing=false]", timeout=1000)
    assert time.monotonic() - started < 1.0
    # And the other way: play on the laptop shows as playing on the phone's bar.
    laptop.click("#pb-play")
    phone.wait_for_selector("#playerbar[data-playing=true]", timeout=1000)
    wait_audio(laptop, "!a.paused")
    # Nothing plays on the phone itself meanwhile.
    assert audio_state(phone)["paused"]


def test_hand_off_continues_on_the_other_device_at_the_same_position(pages):
    laptop, phone, laptop_name, phone_name = two_devices(pages)
    open_album(laptop, LONG_ALBUM)
    laptop.click("#album-play")
    wait_audio(laptop, "!a.paused && a.currentTime > 3")
    phone.click("a[data-nav=devices]")
    take = device_card(phone, laptop_name).locator("[data-act=take]")
    take.wait_for()
    position = audio_state(laptop)["time"]
    take.click()
    started = time.monotonic()
    wait_audio(phone, "!a.paused && a.readyState >= 2 && a.currentTime > 0", timeout=3000)
    took = time.monotonic() - started
    phone_time = audio_state(phone)["time"]
    elapsed = time.monotonic() - started
    wait_audio(laptop, "a.paused", timeout=1000)
    assert took < 1.0, took
    # Same track, within a second of where the laptop was (plus the time since).
    assert abs(phone_time - (position + elapsed)) < 1.0, (phone_time, position, elapsed)
    assert phone.text_content("#pb-title") == "Hour 1"
    # The laptop shows where its music went.
    laptop.wait_for_selector(f"#pb-target:has-text('{phone_name}')")


def test_send_my_queue_to_another_device(pages):
    laptop, phone, laptop_name, phone_name = two_devices(pages)
    open_album(phone, LONG_ALBUM)
    phone.click("#album-play")
    wait_audio(phone, "!a.paused && a.currentTime > 1")
    phone.click("#pb-devices")
    send = device_card(phone, laptop_name).locator("[data-act=send]")
    send.wait_for()
    send.click()
    wait_audio(laptop, "!a.paused && a.currentTime > 1", timeout=2000)
    wait_audio(phone, "a.paused", timeout=1000)


def player_rows(server, username):
    """The user's device players as the server has them: [(key, name, volume)]."""
    out = server.shell(
        "from tracker.models import Tracker; import json; "
        f"print(json.dumps(sorted([t.key, t.state.get('device'), t.state.get('volume')] for t in Tracker.objects.filter(kind='player', owner__username={username!r}))))"
    )
    return [tuple(row) for row in json.loads(out.strip().splitlines()[-1])]


def test_rename_this_device_keeps_its_player_queue_and_volume(pages, server):
    old_name = f"Old name {time.monotonic_ns() % 10**6}"
    page = pages.open("carol", device=old_name)
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 1")
    page.evaluate("() => { const v = document.getElementById('pb-volume'); v.value = '35'; v.dispatchEvent(new Event('change')); }")
    wait_audio(page, "Math.abs(a.volume - 0.35) < 0.01", timeout=3000)
    new_name = f"Study {time.monotonic_ns() % 10**6}"
    page.click("#device-name")  # opens this device's name, ready to edit (no native dialog)
    field = page.locator(f".device-card[data-device='{old_name}'] input.dev-rename")
    field.wait_for()
    assert page.evaluate("() => document.activeElement.classList.contains('dev-rename')")
    field.fill(new_name)
    field.press("Enter")
    page.wait_for_function(f"() => document.getElementById('device-name').textContent === {new_name!r}")
    page.wait_for_selector(f".device-card[data-device='{new_name}'] .badge:has-text('this device')")
    assert page.evaluate("() => localStorage.getItem('deviceName')") == new_name
    # The music carries on: the same player under a new name, not a new device.
    wait_audio(page, "!a.paused", timeout=3000)
    assert page.text_content("#pb-title") == "Hour 1"
    rows = [row for row in player_rows(server, "carol") if old_name in row or new_name in row]
    assert rows == [(old_name, new_name, 35)], rows
    page.reload()
    page.wait_for_function(f"() => document.getElementById('device-name').textContent === {new_name!r}")
    page.wait_for_selector("#playerbar[data-playing=true]")
    wait_audio(page, "!a.paused && Math.abs(a.volume - 0.35) < 0.01", timeout=5000)


def test_a_new_browser_gets_its_own_key_and_renames_keep_it(pages, server):
    page = pages.open("carol")  # no name given: the app picks a name and a random key
    key = page.evaluate("() => localStorage.getItem('deviceKey')")
    name = page.text_content("#device-name")
    assert key.startswith("b-") and len(key) == 26, key
    page.click("#device-name")
    field = page.locator("input.dev-rename")
    field.fill("Renamed " + key[-6:])
    page.click("[data-act=rename-save]")
    page.wait_for_function(f"() => document.getElementById('device-name').textContent === {'Renamed ' + key[-6:]!r}")
    assert (key, "Renamed " + key[-6:], 100) in player_rows(server, "carol")
    assert not any(row[1] == name for row in player_rows(server, "carol"))


def offline_device(pages, user, name):
    """A device that played something and then went away (its browser closed)."""
    gone = pages.open(user, device=name)
    open_album(gone, LONG_ALBUM)
    gone.click("#album-play")
    wait_audio(gone, "!a.paused && a.currentTime > 0.5")
    gone.click("#pb-play")
    wait_audio(gone, "a.paused")
    gone.context.close()
    pages.contexts.remove(gone.context)
    pages.pages.remove(gone)


def test_offline_devices_offer_only_what_works_offline(pages):
    tag = time.monotonic_ns() % 10**6
    offline_device(pages, "carol", f"Old tablet {tag}")
    for viewport in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
        page = pages.open("carol", device=f"Desk {tag} {viewport['width']}", viewport=viewport)
        page.evaluate("() => { location.hash = '#/albums'; }")
        page.click(f".album-card[title='{LONG_ALBUM}']")
        page.click("#album-play")  # so that "Send my queue here" would be offered to an online device
        wait_audio(page, "!a.paused")
        page.goto(pages.server.base_url + "/#/devices")
        page.click("details.offline summary")
        card = device_card(page, f"Old tablet {tag}")
        card.wait_for()
        assert card.get_attribute("data-online") == "false"
        acts = sorted(card.locator(".dev-actions button").evaluate_all("(bs) => bs.map((b) => b.dataset.act)"))
        assert acts == ["forget", "rename", "take"], acts
        # "Play it here" takes the offline device's queue over: it works without the device.
        card.locator("[data-act=take]").click()
        wait_audio(page, "!a.paused && a.currentTime > 0.3", timeout=5000)
        assert page.text_content("#pb-title") == "Hour 1"


def test_forget_an_offline_device_and_rename_another(pages, server):
    tag = time.monotonic_ns() % 10**6
    offline_device(pages, "carol", f"Gone phone {tag}")
    offline_device(pages, "carol", f"Old laptop {tag}")
    page = pages.open("carol", device=f"Desk {tag}")
    page.click("a[data-nav=devices]")
    page.click("details.offline summary")
    gone = device_card(page, f"Gone phone {tag}")
    gone.locator("[data-act=forget]").click()
    gone.locator("[data-act=forget-confirm]").click()  # asked in the card, no native dialog
    gone.wait_for(state="detached")
    assert not any(row[0] == f"Gone phone {tag}" for row in player_rows(server, "carol"))
    # The list stays right after its periodic refresh too.
    page.reload()
    page.wait_for_selector(f".device-card[data-device='Desk {tag}']")
    page.click("details.offline summary")
    device_card(page, f"Old laptop {tag}").wait_for()
    assert device_card(page, f"Gone phone {tag}").count() == 0
    # Renaming an offline device keeps it (same key) and the new name is what it shows when it is back.
    device_card(page, f"Old laptop {tag}").locator("[data-act=rename]").click()
    page.fill("input.dev-rename", f"Kitchen {tag}")
    page.press("input.dev-rename", "Enter")
    device_card(page, f"Kitchen {tag}").wait_for()
    assert (f"Old laptop {tag}", f"Kitchen {tag}", 100) in player_rows(server, "carol")


def test_a_live_device_that_is_forgotten_starts_afresh(pages, server):
    laptop, phone, laptop_name, phone_name = two_devices(pages)
    open_album(phone, LONG_ALBUM)
    phone.click("#album-play")
    wait_audio(phone, "!a.paused && a.currentTime > 0.3")
    old_key = phone.evaluate("() => localStorage.getItem('deviceKey')")
    laptop.click("a[data-nav=devices]")
    card = device_card(laptop, phone_name)
    card.locator("[data-act=forget]").click()
    card.locator("[data-act=forget-confirm]").click()
    # The phone is told: it stops, says so, and registers again as a new, empty device.
    phone.wait_for_selector(".toast:has-text('forgotten')", timeout=5000)
    wait_audio(phone, "a.paused", timeout=3000)
    phone.wait_for_function(f"() => localStorage.getItem('deviceKey') !== {old_key!r}")
    new_key = phone.evaluate("() => localStorage.getItem('deviceKey')")
    phone.wait_for_selector("#playerbar[data-playing=false]")
    rows = player_rows(server, "carol")
    assert not any(row[0] == old_key for row in rows)
    assert (new_key, phone_name, 100) in rows
    # ... and shows up on the laptop as a device again.
    device_card(laptop, phone_name).wait_for(timeout=20000)
    assert phone.errors == [] and laptop.errors == []
