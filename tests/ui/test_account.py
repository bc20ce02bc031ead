"""The account page, for every user: password change with clear errors, theme applied at
once and from the first paint of the next load."""
from __future__ import annotations

import time

from .conftest import PASSWORD

NEW_PASSWORD = "quiet river lantern 8"


def new_user(server, staff=False):
    name = f"acct{time.monotonic_ns() % 10**8}"
    server.shell(f"from django.contrib.auth.models import User; User.objects.create_user({name!r}, password={PASSWORD!r}, is_staff={staff})")
    return name


def open_account(page, phone=False):
    if phone:
        page.click("#nav-open")
    page.click("a[data-nav=account]")
    page.wait_for_selector("#acct-password")


def fill_password(page, current, new, again=None):
    page.fill("#acct-current", current)
    page.fill("#acct-new", new)
    page.fill("#acct-again", new if again is None else again)
    page.click("#acct-password-save")


def test_a_non_staff_user_changes_their_password_with_clear_errors(pages, server):
    name = new_user(server)
    page = pages.open(name)
    assert page.locator("a[data-nav=libraries]").count() == 0  # not staff
    open_account(page)
    assert page.text_content("#view h1") == "Account"

    fill_password(page, "not my password", NEW_PASSWORD)
    page.wait_for_selector("#acct-password-error:has-text('current password is wrong')")
    fill_password(page, PASSWORD, "12345")
    page.wait_for_selector("#acct-password-error:has-text('too short')")
    assert "entirely numeric" in page.text_content("#acct-password-error")
    fill_password(page, PASSWORD, NEW_PASSWORD, again=NEW_PASSWORD + "x")
    page.wait_for_selector("#acct-password-error:has-text('differ')")

    fill_password(page, PASSWORD, NEW_PASSWORD)
    page.wait_for_selector(".toast:has-text('Password changed')")
    assert page.input_value("#acct-current") == ""
    # This browser stays signed in, live, after a reload too.
    page.reload()
    page.wait_for_selector("#conn[data-status=open]")
    assert "/login/" not in page.url
    # The new password signs in; the old one no longer does.
    other = pages.open(name, login=False)
    other.goto(server.base_url + "/login/")
    other.fill("#id_username", name)
    other.fill("#id_password", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_selector(".form-error, .errorlist, .error")
    assert "/login/" in other.url
    pages.login(other, name, NEW_PASSWORD)
    assert page.errors == [] and other.errors == []


def background(page):
    return page.evaluate("() => getComputedStyle(document.body).backgroundColor")


def test_theme_light_and_dark_applied_at_once_and_before_first_paint(pages, server):
    name = new_user(server)
    for viewport, phone in (({"width": 1280, "height": 800}, False), ({"width": 390, "height": 844}, True)):
        page = pages.open(name, viewport=viewport)
        page.emulate_media(color_scheme="dark")
        open_account(page, phone=phone)
        dark = background(page)
        page.check("#acct-theme input[value=light]")
        page.wait_for_function("() => document.documentElement.classList.contains('theme-light')")
        light = background(page)
        assert light != dark, (light, dark)
        page.wait_for_selector(".toast:has-text('Saved')")
        # The next load has the class in the HTML itself: the first paint is light.
        response = page.reload()
        assert '<html lang="en" class="theme-light">' in response.text()
        assert background(page) == light
        # "As the system" follows the device's preference.
        open_account(page, phone=phone)
        page.check("#acct-theme input[value=system]")
        page.wait_for_selector(".toast:has-text('Saved')")
        assert background(page) == dark
        page.emulate_media(color_scheme="light")
        assert background(page) == light
        page.check("#acct-theme input[value=dark]")
        page.wait_for_function("() => document.documentElement.classList.contains('theme-dark')")
        assert background(page) == dark
        page.wait_for_selector(".toast:has-text('Saved')")
        page.reload()
        page.wait_for_selector("#conn[data-status=open]")
        assert background(page) == dark  # dark kept although the device prefers light
        # Back to the default for the next viewport.
        open_account(page, phone=phone)
        page.check("#acct-theme input[value=system]")
        page.wait_for_selector(".toast:has-text('Saved')")


def test_account_screenshot(pages, server):
    """docs/screenshots/account.png with UI_SCREENSHOTS=1 (see test_screenshots)."""
    from .test_screenshots import shoot

    page = pages.open(new_user(server))
    open_account(page)
    fill_password(page, PASSWORD, "12345")
    page.wait_for_selector("#acct-password-error:has-text('too short')")
    shoot(page, "account")
