"""What a Subsonic app does to its play queue reaches the user's browsers live: the app is
one of the user's devices (a ``player`` tracker), and savePlayQueue is a tracker action."""
from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from .conftest import Subsonic

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def setup(make_user):
    from bridge.subsonic import credentials
    from tests.library import factories as f

    user = make_user("alice")
    album = f.album("Live", by="The Band")
    tracks = [f.track(f"Song {n}", album, number=n).pk for n in range(1, 5)]
    return user, Subsonic("alice", credentials.password_reset(user), client="DSub"), tracks


@database_sync_to_async
def save_queue(client: Subsonic, **params) -> dict:
    return client.ok("savePlayQueue", **params)


async def test_save_play_queue_reaches_a_subscribed_browser(make_user, ws_client):
    user, app, tracks = await setup(make_user)
    await save_queue(app, id=[f"tr-{t}" for t in tracks[:2]])

    browser = await ws_client(user)
    listed = await browser.request("tracker.list", {"kind": "player"})
    assert listed["ok"], listed
    device = next(t for t in listed["result"] if t["key"] == "DSub")
    assert device["mine"] and device["state"]["device"] == "DSub" and device["state"]["queue"] == tracks[:2]
    assert (await browser.request("tracker.subscribe", {"tracker": device["tracker"]}))["ok"]

    await save_queue(app, id=[f"tr-{t}" for t in tracks], current=f"tr-{tracks[2]}", position=42_000)
    event = await browser.event("tracker.action.applied")
    payload = event["payload"]
    assert payload["tracker"] == device["tracker"] and payload["action"] == "player.queue.replace"
    assert payload["version"] == device["version"] + 1
    assert payload["payload"] == {"tracks": tracks, "index": 2, "position_ms": 42_000}
    assert payload["changes"]["queue"] == tracks and payload["changes"]["index"] == 2

    # The browser can read (and control) the app's device like any other.
    state = await browser.request("tracker.state.get", {"tracker": device["tracker"]})
    assert state["result"]["state"]["position_ms"] == 42_000


@database_sync_to_async
def get_queue(client: Subsonic) -> dict:
    return client.ok("getPlayQueue").get("playQueue")


async def test_one_play_queue_per_user_across_apps_and_browser(make_user, ws_client):
    """Two apps and a browser device share the user's latest queue; each stays its own device."""
    user, app_a, tracks = await setup(make_user)
    app_b = Subsonic("alice", app_a.password, client="Symfonium")

    await save_queue(app_a, id=[f"tr-{t}" for t in tracks[:2]], current=f"tr-{tracks[1]}", position=5_000)
    assert (await get_queue(app_b))["changedBy"] == "DSub"

    # The browser registers its device and plays something else: both apps resume it.
    browser = await ws_client(user)
    registered = await browser.request("player.device.register", {"name": "Firefox on laptop"})
    assert registered["ok"], registered
    device = registered["result"]["tracker"]
    replaced = await browser.request("player.queue.replace", {"tracker": device, "tracks": tracks[2:], "index": 1,
                                                              "position_ms": 7_000})
    assert replaced["ok"], replaced
    for app in (app_a, app_b):
        queue = await get_queue(app)
        assert queue["changedBy"] == "Firefox on laptop"
        assert [e["id"] for e in queue["entry"]] == [f"tr-{t}" for t in tracks[2:]]
        assert queue["current"] == f"tr-{tracks[3]}" and queue["position"] == 7_000

    # App B saves: its queue is the latest for app A and the browser sees it live.
    await save_queue(app_b, id=[f"tr-{tracks[0]}"], position=1_000)
    assert (await get_queue(app_a))["changedBy"] == "Symfonium"
    listed = await browser.request("tracker.list", {"kind": "player"})
    keys = {t["key"]: t["state"]["queue"] for t in listed["result"]}
    assert keys["Symfonium"] == [tracks[0]] and keys["DSub"] == tracks[:2] and keys["Firefox on laptop"] == tracks[2:]

    # The browser moves on in its own queue (a playback action): the latest again.
    assert (await browser.request("player.playback.next", {"tracker": device}))["ok"]
    assert (await get_queue(app_b))["changedBy"] == "Firefox on laptop"
