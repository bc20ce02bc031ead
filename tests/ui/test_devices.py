"""Two browsers of one user are two devices: live state, remote control, hand-off."""
from __future__ import annotations

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
    assert "Hour 1" in card.locator(".dev-now").text_content()
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


def test_rename_this_device_keeps_its_queue_and_the_name(pages):
    page = pages.open("carol", device=f"Old name {time.monotonic_ns() % 10**6}")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 1")
    new_name = f"Study {time.monotonic_ns() % 10**6}"
    page.click("#device-name")
    page.fill("dialog.dlg input", new_name)  # the app's own dialog
    page.click("dialog.dlg [data-action=ok]")
    page.wait_for_function(f"() => document.getElementById('device-name').textContent === {new_name!r}")
    assert page.evaluate("() => localStorage.getItem('deviceName')") == new_name
    # The music carries on under the new name.
    wait_audio(page, "!a.paused", timeout=3000)
    assert page.text_content("#pb-title") == "Hour 1"
    page.reload()
    page.wait_for_function(f"() => document.getElementById('device-name').textContent === {new_name!r}")
    page.wait_for_selector("#playerbar[data-playing=true]")
