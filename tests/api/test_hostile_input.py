"""Hostile input to the REST API (issue 14, items 7 and 8): bodies nested past the parser's
recursion limit, ids and counts past what JSON and the databases hold, numbers in other
scripts. Each gets the API's one error shape (400 ``{"error": ...}``), never a 500, and
changes nothing; a property-based run sends generated hostile input to every endpoint kind.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from common.messages import Context
from tracker import services, store

from .conftest import assert_error

pytestmark = pytest.mark.django_db

DEEP = ["[" * 50_000, '{"a":' * 50_000, "[" * 50_000 + "]" * 50_000]
HOSTILE_INTS = [2**53, 2**63, 2**70, -1, -(2**70)]


def ctx(user) -> Context:
    return Context(user_id=user.pk, username=user.username, is_staff=user.is_staff, via="rest")


@pytest.fixture
def phone(alice):
    return services.register_device(ctx(alice), "phone")["tracker"]


def post_raw(client, url: str, body: str, method: str = "post"):
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize("body", DEEP, ids=["brackets", "objects", "closed"])
def test_deep_nesting_is_a_400_on_the_token_endpoint(anon, body):
    response = post_raw(anon, "/api/v1/auth/token/", body)
    error = assert_error(response, 400, "bad_request")
    assert "JSON" in error["message"]


@pytest.mark.parametrize("body", DEEP[:2], ids=["brackets", "objects"])
@pytest.mark.parametrize("method, url", [
    ("post", "/api/v1/trackers/{phone}/actions/"), ("post", "/api/v1/libraries/"), ("patch", "/api/v1/libraries/1/"),
    ("post", "/api/v1/playlists/"), ("post", "/api/v1/favourites/"), ("post", "/api/v1/ratings/"),
    ("post", "/api/v1/plays/"), ("post", "/api/v1/bookmarks/"),
])
def test_deep_nesting_is_a_400_everywhere(as_admin, phone, body, method, url):
    response = post_raw(as_admin, url.format(phone=phone), body, method)
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("bad", HOSTILE_INTS)
def test_out_of_range_track_ids_are_refused_and_change_nothing(as_alice, phone, bad):
    for payload in ({"tracks": [bad]}, {"tracks": [1], "index": bad}):
        response = as_alice.post(f"/api/v1/trackers/{phone}/actions/", {"action": "player.queue.replace", "payload": payload},
                                 format="json")
        assert_error(response, 400, "invalid_payload")
    response = as_alice.post(f"/api/v1/trackers/{phone}/actions/",
                             {"action": "player.playback.pause", "expected_version": bad}, format="json")
    assert_error(response, 400, "invalid_payload")
    assert store.load(phone).version == 1


@pytest.mark.parametrize("bad", HOSTILE_INTS)
@pytest.mark.parametrize("method, url, body", [
    ("post", "/api/v1/playlists/", lambda bad: {"name": "x", "tracks": [bad]}),
    ("post", "/api/v1/favourites/", lambda bad: {"kind": "track", "id": bad}),
    ("post", "/api/v1/plays/", lambda bad: {"track": bad}),
    ("get", "/api/v1/albums/", lambda bad: {"artist": bad}),
    ("get", "/api/v1/albums/", lambda bad: {"library": bad}),
    ("get", "/api/v1/albums/", lambda bad: {"offset": bad}),
    ("get", "/api/v1/scans/", lambda bad: {"library": bad}),
])
def test_out_of_range_ids_in_bodies_and_queries_are_400(as_admin, method, url, body, bad):
    if method == "get":
        response = as_admin.get(url, body(bad))
    else:
        response = as_admin.post(url, body(bad), format="json")
    assert_error(response, 400, "invalid_payload")


@pytest.mark.parametrize("tracker", ["a b", "é", "x" * 300, "00000000-0000-0000-0000-00000000000g"])
def test_a_tracker_id_in_the_url_that_is_no_uuid_is_404(as_alice, tracker):
    assert_error(as_alice.get(f"/api/v1/trackers/{tracker}/"), 404, "not_found")
    response = as_alice.post(f"/api/v1/trackers/{tracker}/actions/", {"action": "player.playback.pause"}, format="json")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("genre", ["²", "٣", "9" * 30, "9" * 5000])
def test_genre_ids_are_ascii_digits_within_range(as_alice, genre):
    response = as_alice.get("/api/v1/albums/", {"genre": genre[:200]})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        assert response.json()["items"] == []


# -- property-based ------------------------------------------------------------------------------

hostile_numbers = st.one_of(
    st.integers(min_value=2**53), st.integers(max_value=-1), st.sampled_from([2**63, 2**64, 2**70, -(2**63)]),
    st.floats(allow_nan=False), st.booleans(), st.sampled_from(["²", "٣", "1e400", "9" * 30, "-0", " 1", "1_0"]),
)
odd_text = st.text(max_size=40) | st.sampled_from(["\u202e", "\ud7ff", "\x00", "é" * 300, "a b", "../../etc"])
nested = st.recursive(st.none() | st.integers() | odd_text, lambda inner: st.lists(inner, max_size=3), max_leaves=8)
hostile_values = hostile_numbers | odd_text | nested | st.dictionaries(odd_text, hostile_numbers, max_size=2)

# (method, url, fields that take ids or counts, fixed fields)
ENDPOINTS = [
    ("post", "/api/v1/trackers/{phone}/actions/", None, None),
    ("get", "/api/v1/albums/", ["artist", "library", "genre", "offset", "limit", "year"], {}),
    ("get", "/api/v1/artists/", ["offset", "limit"], {}),
    ("get", "/api/v1/search/", ["offset", "limit"], {"q": "a"}),
    ("get", "/api/v1/scans/", ["library", "offset", "limit"], {}),
    ("get", "/api/v1/plays/", ["offset", "limit"], {}),
    ("get", "/api/v1/trackers/", ["kind"], {}),
    ("post", "/api/v1/playlists/", ["tracks", "name", "public"], {"name": "x"}),
    ("post", "/api/v1/favourites/", ["id", "kind"], {"kind": "track"}),
    ("post", "/api/v1/ratings/", ["id", "rating"], {"kind": "album", "rating": 3}),
    ("post", "/api/v1/plays/", ["track", "submission"], {}),
    ("post", "/api/v1/bookmarks/", ["track", "position_ms"], {"position_ms": 0}),
    ("post", "/api/v1/auth/token/", ["username", "password"], {"username": "alice"}),
]
TRACKER_ACTIONS = {
    "player.queue.replace": ["tracks", "index", "position_ms"], "player.queue.append": ["tracks"],
    "player.queue.insert_next": ["tracks"], "player.queue.remove": ["index"], "player.queue.move": ["from_index", "to_index"],
    "player.playback.play": ["index", "position_ms"], "player.playback.seek": ["position_ms"], "player.volume.set": ["volume"],
}


@st.composite
def requests(draw):
    """(method, url, data, as JSON body?) with one hostile field, or a body nested deep."""
    method, url, fields, fixed = draw(st.sampled_from(ENDPOINTS))
    if method == "post" and draw(st.integers(0, 5)) == 0:
        depth = draw(st.sampled_from([33, 1000, 50_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return method, url, opener * depth + "1" + closer * draw(st.sampled_from([0, depth])), True
    if fields is None:
        action = draw(st.sampled_from(sorted(TRACKER_ACTIONS)))
        payload = {draw(st.sampled_from(TRACKER_ACTIONS[action])): draw(hostile_values)}
        body = {"action": action, "payload": payload}
        if draw(st.booleans()):
            body["expected_version"] = draw(hostile_numbers)
        return method, url, body, True
    data = {**fixed, draw(st.sampled_from(fields)): draw(hostile_values)}
    if method == "get":
        return method, url, {key: json.dumps(value) if not isinstance(value, str) else value for key, value in data.items()}, False
    return method, url, data, True


def test_generated_hostile_requests_get_clear_errors_and_change_nothing(as_alice, phone):
    before = store.load(phone)

    @hypothesis_settings(max_examples=150, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(requests())
    def fuzz(request):
        method, url, data, as_json = request
        url = url.format(phone=phone)
        if method == "get":
            response = as_alice.get(url, data)
        else:
            body = data if isinstance(data, str) else json.dumps(data)
            response = as_alice.post(url, body.encode("utf-8", "surrogatepass"), content_type="application/json")
        assert response.status_code < 500, (request, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), (request, response["Content-Type"])
        if response.status_code >= 400:
            assert response.json()["error"]["code"] != "internal", (request, response.content[:300])
        after = store.load(phone)
        assert (after.version, after.state) == (before.version, before.state), request

    fuzz()
