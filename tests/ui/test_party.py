"""Listening parties: a member hears the host's track at the host's position."""
from __future__ import annotations

from .conftest import LONG_ALBUM, audio_state, open_album, wait_audio


def test_party_member_hears_the_hosts_track(pages, server):
    host = pages.open("alice")
    open_album(host, LONG_ALBUM)
    host.locator(".track-row", has_text="Hour 2").hover()
    host.locator(".track-row", has_text="Hour 2").locator(".tr-play").click()
    wait_audio(host, "!a.paused && a.currentTime > 2")

    host.click("a[data-nav=party]")
    host.fill("input[aria-label='Party name']", "Friday night")
    host.click("#party-create")
    host.wait_for_selector("h1:has-text('Friday night')")
    link = host.input_value("#party-link")
    assert link.startswith(server.base_url + "/#/party/")
    # The host now listens to the party, which took over what it played, where it was.
    host.wait_for_function("() => document.getElementById('pb-target').textContent.includes('Friday night')")
    wait_audio(host, "!a.paused && a.currentTime > 2")
    assert host.text_content("#pb-title") == "Hour 2"

    member = pages.open("bob")
    member.goto(link)
    member.click("#party-join")
    member.wait_for_selector("h1:has-text('Friday night')")
    wait_audio(member, "!a.paused && a.readyState >= 2 && a.currentTime > 1", timeout=5000)
    assert member.text_content("#pb-title") == "Hour 2"
    both = member.evaluate("() => document.getElementById('audio').currentTime"), audio_state(host)["time"]
    assert abs(both[0] - both[1]) < 1.5, both
    # The same track, as the file is: the member may not know the track's format yet when it
    # loads it, and then lets the server choose (playable.js: ?format=...&accept=<what this
    # browser plays>); WAV is among them, so the server sends the original ("raw").
    member_src, host_src = member.get_attribute("#audio", "src"), host.get_attribute("#audio", "src")
    assert member_src.split("?")[0] == host_src.split("?")[0], (member_src, host_src)
    profile = member.evaluate(
        "async (src) => (await fetch(src, {headers: {Range: 'bytes=0-0'}})).headers.get('X-Transcode-Profile')",
        member_src)
    assert profile == "raw", (member_src, profile)

    # Members may not control playback until the host allows it.
    member.click("#pb-next")
    member.wait_for_selector(".toast.error")
    host.check("#party-control")
    member.wait_for_selector("text=everyone can control playback")
    member.click("#pb-next")
    host.wait_for_function("() => document.getElementById('pb-title').textContent === 'Hour 3'")
    wait_audio(host, "!a.paused && a.currentTime < 3")

    # The host pauses: the member's audio pauses too.
    host.click("#pb-play")
    wait_audio(member, "a.paused", timeout=2000)


def test_when_the_host_ends_the_party_both_pages_say_so(pages):
    host = pages.open("alice")
    host.click("a[data-nav=party]")
    host.fill("input[aria-label='Party name']", "Short one")
    host.click("#party-create")
    host.wait_for_selector("h1:has-text('Short one')")
    member = pages.open("carol")
    member.goto(host.input_value("#party-link"))
    member.click("#party-join")
    member.wait_for_selector("h1:has-text('Short one')")
    host.click("button:has-text('End party')")
    # Nobody may read an ended party any more (tracker.subscription.revoked): no invite to join it.
    for page in (host, member):
        page.wait_for_selector("text=This party has ended.")
        page.wait_for_timeout(300)
        assert page.locator("#party-join").count() == 0
        assert page.locator("text=This party has ended.").count() == 1
