"""jukeboxControl drives one of the user's live devices (a browser with the web player open)
through the tracker actions the browser itself uses; the browser sees every change live."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from channels.db import database_sync_to_async

from . import helpers as h
from .conftest import Subsonic
from .schema import validate_json, validate_xml as validate

pytestmark = pytest.mark.django_db(transaction=True)



@database_sync_to_async
def setup(make_user):
    from bridge.subsonic import credentials
    from tests.library import factories as f

    user = make_user("alice")
    make_user("bob")
    album = f.album("Live", by="The Band")
    tracks = [f.track(f"Song {n}", album, number=n).pk for n in range(1, 6)]
    return user, Subsonic("alice", credentials.password_reset(user), client="DSub"), tracks


@database_sync_to_async
def jukebox(client: Subsonic, **params) -> dict:
    return client.json("jukeboxControl", **params)


@database_sync_to_async
def jukebox_xml(client: Subsonic, **params) -> bytes:
    return client.raw("jukeboxControl", **params).content


async def test_jukebox_without_a_live_device(make_user):
    _user, app, tracks = await setup(make_user)
    await database_sync_to_async(app.ok)("savePlayQueue", id=[f"tr-{tracks[0]}"])  # an app device is never live
    body = await jukebox(app, action="status")
    assert body["status"] == "failed" and body["error"]["code"] == 70 and "live device" in body["error"]["message"]


async def test_jukebox_drives_the_live_browser_device(make_user, ws_client):
    user, app, tracks = await setup(make_user)
    browser = await ws_client(user)
    registered = await browser.request("player.device.register", {"name": "Kitchen"})
    assert registered["ok"], registered
    device = registered["result"]["tracker"]

    async def state() -> dict:
        return (await browser.request("tracker.state.get", {"tracker": device}))["result"]["state"]

    status = await jukebox(app, action="status")
    assert status["jukeboxStatus"] == {"currentIndex": -1, "playing": False, "gain": 1.0, "volume": 1, "position": 0}
    validate_json("jukeboxControl", {"subsonic-response": status})

    set_ = await jukebox(app, action="set", id=[f"tr-{t}" for t in tracks[:3]])
    assert set_["jukeboxStatus"]["currentIndex"] == 0
    event = await browser.event("tracker.action.applied")
    assert event["payload"]["action"] == "player.queue.replace" and event["payload"]["tracker"] == device
    assert (await state())["queue"] == tracks[:3]

    assert (await jukebox(app, action="start"))["jukeboxStatus"]["playing"] is True
    assert (await state())["playing"] is True
    skipped = await jukebox(app, action="skip", index=2, offset=30)
    assert skipped["jukeboxStatus"]["currentIndex"] == 2 and skipped["jukeboxStatus"]["position"] >= 30
    await jukebox(app, action="add", id=[f"tr-{tracks[3]}", f"tr-{tracks[4]}"])
    await jukebox(app, action="remove", index=0)
    assert (await state())["queue"] == tracks[1:5]
    assert (await jukebox(app, action="setGain", gain="0.25"))["jukeboxStatus"]["gain"] == 0.25
    assert (await state())["volume"] == 25

    current = (await state())["queue"][(await state())["index"]]
    shuffled = await jukebox(app, action="shuffle")
    after = await state()
    assert sorted(after["queue"]) == sorted(tracks[1:5]) and after["queue"][0] == current
    assert shuffled["jukeboxStatus"]["currentIndex"] == 0

    playlist = await jukebox(app, action="get")
    assert [e["id"] for e in playlist["jukeboxPlaylist"]["entry"]] == [f"tr-{t}" for t in after["queue"]]
    body = await jukebox_xml(app, action="get")
    validate(body)
    assert ET.fromstring(body).find(h.NS + "jukeboxPlaylist").get("gain") == "0.25"
    validate(await jukebox_xml(app, action="status"))

    # set keeps the playing track (and its place) when the new list holds it.
    playing_now = after["queue"][0]
    kept = await jukebox(app, action="set", id=[f"tr-{tracks[0]}", f"tr-{playing_now}"])
    assert kept["jukeboxStatus"]["currentIndex"] == 1 and kept["jukeboxStatus"]["position"] >= 30
    assert (await state())["queue"] == [tracks[0], playing_now]

    assert (await jukebox(app, action="stop"))["jukeboxStatus"]["playing"] is False
    await jukebox(app, action="clear")
    assert (await state())["queue"] == []
    validate_json("jukeboxControl", {"subsonic-response": playlist})

    # Named explicitly; bad input changes nothing.
    assert (await jukebox(app, action="status", device="Kitchen"))["status"] == "ok"
    assert (await jukebox(app, action="status", device="Nowhere"))["error"]["code"] == 70
    for params in ({"action": "dance"}, {"action": "skip", "index": 9}, {"action": "setGain", "gain": "loud"},
                   {"action": "setGain", "gain": "1.5"}, {"action": "add"}):
        assert (await jukebox(app, **params))["error"]["code"] == 10, params
    assert (await jukebox(app, action="add", id=["tr-999999"]))["error"]["code"] == 70
    assert (await state())["queue"] == []


async def test_jukebox_controls_only_the_users_own_devices(make_user, ws_client):
    from django.contrib.auth import get_user_model

    user, app, _tracks = await setup(make_user)
    bob = await database_sync_to_async(get_user_model().objects.get)(username="bob")
    other = await ws_client(bob)
    assert (await other.request("player.device.register", {"name": "Bob's laptop"}))["ok"]
    body = await jukebox(app, action="status")
    assert body["error"]["code"] == 70
    assert (await jukebox(app, action="status", device="Bob's laptop"))["error"]["code"] == 70
