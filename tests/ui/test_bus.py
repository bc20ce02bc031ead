"""The WebSocket client's version rules, checked in the page: apply only version ==
known + 1, ignore versions already seen, resubscribe with since_version on a gap."""
from __future__ import annotations

import json

from .conftest import LONG_ALBUM, open_album, wait_audio

# The page's own modules (same URL, same instances): their versioned names, from the
# collected files' manifest.
SETUP = """async () => {
  const manifest = await fetch('/static/staticfiles.json').then((r) => (r.ok ? r.json() : {}));
  const url = (name) => '/static/' + (manifest.paths?.[name] || name);
  window.testBus = (await import(url('js/bus.js'))).bus;
  window.testSession = (await import(url('js/session.js'))).session;
}"""


def test_old_versions_are_ignored_and_a_gap_resubscribes(pages):
    page = pages.open("bob")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.reload()  # so that the frame listener sees the new connection
    page.wait_for_selector("#conn[data-status=open]")
    page.evaluate(SETUP)
    page.wait_for_function("() => window.testSession.deviceId && window.testBus.version(window.testSession.deviceId) !== null")
    tracker, version = page.evaluate("() => { window.deviceId = window.testSession.deviceId; return [window.deviceId, window.testBus.version(window.deviceId)]; }")
    assert version > 0

    # A replayed old event changes nothing.
    page.evaluate("""([t, v]) => window.testBus.onApplied({tracker: t, version: v, action: 'player.volume.set', payload: {}, changes: {volume: 3}})""", [tracker, version])
    page.wait_for_timeout(300)
    assert page.input_value("#pb-volume") != "3"
    assert page.evaluate("() => window.testBus.version(window.deviceId)") == version

    # An event from the future (a gap) is not applied: the client asks for what it missed.
    sent.clear()
    page.evaluate("""([t, v]) => window.testBus.onApplied({tracker: t, version: v + 2, action: 'player.volume.set', payload: {}, changes: {volume: 7}})""", [tracker, version])
    page.wait_for_timeout(500)
    frames = [json.loads(f) for f in sent if isinstance(f, str)]
    resyncs = [f for f in frames if f.get("action") == "tracker.subscribe" and f["payload"].get("tracker") == tracker]
    assert resyncs and resyncs[0]["payload"]["since_version"] == version, frames
    assert page.input_value("#pb-volume") != "7"

    # The next real change applies (version + 1).
    page.click("#pb-play")
    wait_audio(page, "a.paused")
    assert page.evaluate("() => window.testBus.version(window.deviceId)") == version + 1
