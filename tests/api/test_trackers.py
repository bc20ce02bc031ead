"""REST trackers: visible trackers, state, and actions with the same checks as the WebSocket path."""
from __future__ import annotations

import uuid

import pytest

from common.messages import Context
from tracker import services, store

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def ctx(user) -> Context:
    return Context(user_id=user.pk, username=user.username, is_staff=user.is_staff, via="ws")


@pytest.fixture
def phone(alice):
    """Alice's device player "phone"."""
    return services.register_device(ctx(alice), "phone")["tracker"]


def act(client, tracker, action, payload=None, **extra):
    body = {"action": action, **extra}
    if payload is not None:
        body["payload"] = payload
    return client.post(f"/api/v1/trackers/{tracker}/actions/", body, format="json")


@pytest.mark.parametrize("method, url", [("get", "/api/v1/trackers/"), ("get", "/api/v1/trackers/{t}/"),
                                         ("post", "/api/v1/trackers/{t}/actions/")])
def test_anonymous_callers_get_401(anon, phone, method, url):
    response = getattr(anon, method)(url.format(t=phone), {"action": "player.playback.pause"}, format="json")
    assert_error(response, 401, "unauthenticated")
    assert store.load(phone).version == 1


def test_each_user_lists_the_trackers_they_can_see(as_alice, as_bob, alice, bob, phone):
    services.register_device(ctx(bob), "laptop")
    mine = as_alice.get("/api/v1/trackers/").json()
    assert [(t["tracker"], t["kind"], t["key"], t["mine"]) for t in mine] == [(phone, "player", "phone", True)]
    assert mine[0]["state"]["device"] == "phone" and mine[0]["owner"] == alice.pk
    assert [t["key"] for t in as_bob.get("/api/v1/trackers/").json()] == ["laptop"]
    assert as_alice.get("/api/v1/trackers/?kind=party").json() == []
    assert_error(as_alice.get("/api/v1/trackers/?kind=" + "k" * 40), 400, "invalid_payload")


def test_a_controller_sees_the_device(as_bob, alice, bob, phone):
    services.add_controller(ctx(alice), phone, "bob")
    listed = as_bob.get("/api/v1/trackers/").json()
    assert [(t["tracker"], t["mine"]) for t in listed] == [(phone, False)]


def test_tracker_state(as_alice, phone):
    body = as_alice.get(f"/api/v1/trackers/{phone}/").json()
    assert (body["tracker"], body["kind"], body["version"]) == (phone, "player", 1)
    assert body["state"]["volume"] == 100


def test_another_users_tracker_is_403(as_bob, phone):
    assert_error(as_bob.get(f"/api/v1/trackers/{phone}/"), 403, "forbidden")


@pytest.mark.parametrize("tracker", [uuid.UUID(int=7), "not-a-uuid", "x" * 80])
def test_a_missing_tracker_is_404(as_alice, tracker):
    assert_error(as_alice.get(f"/api/v1/trackers/{tracker}/"), 404, "not_found")


# -- actions ----------------------------------------------------------------------------------


def test_an_action_applies_and_bumps_the_version(as_alice, alice, phone):
    response = act(as_alice, phone, "player.volume.set", {"volume": 40})
    assert response.status_code == 200, response.json()
    assert response.json() == {"tracker": phone, "version": 2, "changes": {"volume": 40}}
    tracker = store.load(phone)
    assert (tracker.version, tracker.state["volume"]) == (2, 40)
    logged = tracker.actions.get(version=2)
    assert (logged.actor, logged.context["via"]) == (alice.pk, "rest")


def test_a_legacy_action_name_is_accepted(as_alice, phone):
    response = act(as_alice, phone, "player:volume", {"volume": 10})
    assert response.status_code == 200
    assert store.load(phone).state["volume"] == 10


def test_expected_version_makes_an_action_conditional(as_alice, phone):
    assert act(as_alice, phone, "player.volume.set", {"volume": 5}, expected_version=1).status_code == 200
    assert_error(act(as_alice, phone, "player.volume.set", {"volume": 6}, expected_version=1), 409, "conflict")
    assert store.load(phone).state["volume"] == 5


def test_a_controller_may_act_and_others_may_not(as_bob, alice, phone):
    assert_error(act(as_bob, phone, "player.playback.pause"), 403, "forbidden")
    services.add_controller(ctx(alice), phone, "bob")
    assert act(as_bob, phone, "player.playback.pause").status_code == 200


@pytest.mark.parametrize(
    "body, status, code, field",
    [
        ({"action": "player.volume.set", "payload": {"volume": 101}}, 400, "invalid_payload", "volume"),
        ({"action": "player.volume.set", "payload": {"volume": "loud"}}, 400, "invalid_payload", "volume"),
        ({"action": "player.volume.set", "payload": {}}, 400, "invalid_payload", "volume"),
        ({"action": "player.volume.set", "payload": {"volume": 5, "bass": 3}}, 400, "invalid_payload", "bass"),
        ({"action": "player.volume.set", "payload": {"volume": 5, "tracker": "x"}}, 400, "invalid_payload", None),
        ({"action": "player.volume.set", "payload": [5]}, 400, "invalid_payload", "payload"),
        ({"action": "player.volume.set", "payload": {"volume": 5}, "expected_version": -1}, 400, "invalid_payload",
         "expected_version"),
        ({"payload": {}}, 400, "invalid_payload", "action"),
        ({"action": "player.dance.start"}, 404, "unknown_action", None),
        ({"action": "library.album.get", "payload": {"album": 1}}, 400, "bad_request", None),  # not a tracker action
        ({"action": "tracker.subscribe", "payload": {}}, 400, "bad_request", None),  # needs a connection
        ({"action": "library.scan.begin", "payload": {"scan_id": 1, "trigger": "api"}}, 403, "forbidden", None),
        ({"action": "player.queue.take", "payload": {"queue": [1], "index": 0, "position_ms": 0, "shuffle": False,
                                                      "repeat": "off"}}, 403, "forbidden", None),  # server only
    ],
)
def test_actions_are_checked_like_websocket_requests(as_alice, phone, body, status, code, field):
    response = as_alice.post(f"/api/v1/trackers/{phone}/actions/", body, format="json")
    error = assert_error(response, status, code)
    if field:
        assert field in [d["field"] for d in error["details"]]
    assert store.load(phone).version == 1


def test_an_action_on_a_missing_tracker_is_404(as_alice):
    assert_error(act(as_alice, uuid.uuid4(), "player.playback.pause"), 404, "not_found")


def test_scan_trackers_are_read_only_for_users(as_alice, catalogue):
    from orchestrator.services import scan_tracker

    tracker = str(scan_tracker(catalogue.library).pk)
    assert as_alice.get(f"/api/v1/trackers/{tracker}/").status_code == 200
    assert_error(act(as_alice, tracker, "library.scan.report", {"parsed": 1}), 403, "forbidden")


def test_a_party_member_acts_on_the_party(as_alice, as_bob, alice):
    party = services.create_party(ctx(alice), {"name": "Friday"})["tracker"]
    assert_error(as_bob.get(f"/api/v1/trackers/{party}/"), 403, "forbidden")
    assert act(as_bob, party, "party.session.join").status_code == 200
    assert as_bob.get(f"/api/v1/trackers/{party}/").json()["state"]["members"] == sorted([alice.pk, as_bob_id(party)])
    # members may not control playback unless the host allows it: the reducer refuses
    assert_error(act(as_bob, party, "party.control.set", {"members_control": True}), 403, "forbidden")
    assert act(as_alice, party, "party.control.set", {"members_control": True}).status_code == 200


def as_bob_id(party) -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bob").pk


def test_transfer_hands_the_queue_to_another_device(as_alice, alice, phone, catalogue):
    laptop = services.register_device(ctx(alice), "laptop")["tracker"]
    track = catalogue.tracks["joga"].pk
    assert act(as_alice, phone, "player.queue.replace", {"tracks": [track], "play": True}).status_code == 200
    response = act(as_alice, phone, "player.queue.transfer", {"to": laptop})
    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"source", "target"}
    assert store.load(laptop).state["queue"] == [track]


# -- the same answers as the WebSocket ----------------------------------------------------------

SAME_AS_WS = [
    ("player.volume.set", {"volume": 30}),
    ("player.volume.set", {"volume": 101}),
    ("player.volume.set", {"volume": "loud"}),
    ("player.mode.set", {}),
    ("player:pause", {}),
    ("player.dance.start", {}),
    ("library.scan.begin", {"scan_id": 1, "trigger": "api"}),
    ("player.queue.remove", {"index": 3}),
    ("party.session.join", {}),
    ("player.volume.set", {"volume": 1, "expected_version": 0}),  # stale: conflict
]


@pytest.mark.django_db(transaction=True)
async def test_rest_and_websocket_give_the_same_answers(ws_client, alice, client_for):
    from asgiref.sync import sync_to_async

    phone = await sync_to_async(lambda: services.register_device(ctx(alice), "phone")["tracker"])()
    rest = await sync_to_async(client_for)(alice)
    socket = await ws_client(alice)
    seen = set()
    for action, payload in SAME_AS_WS:
        over_ws = await socket.request(action, {**payload, "tracker": phone})
        body = {k: v for k, v in payload.items() if k != "expected_version"}
        extra = {"expected_version": payload["expected_version"]} if "expected_version" in payload else {}
        over_rest = await sync_to_async(act)(rest, phone, action, body, **extra)
        ws_code = over_ws["error"]["code"] if "error" in over_ws else None
        rest_code = over_rest.json()["error"]["code"] if over_rest.status_code != 200 else None
        assert rest_code == ws_code, (action, payload, over_ws, over_rest.json())
        seen.add(ws_code)
    assert seen >= {None, "invalid_payload", "unknown_action", "forbidden", "conflict"}
