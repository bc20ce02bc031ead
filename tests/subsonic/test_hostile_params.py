"""Hostile Subsonic parameters (issue 14, items 7 and 8): ids in other scripts or past what
the databases hold, offsets and sizes of 20 digits, a play queue stored with an entry no
track can have. Each gets a Subsonic error with a message (code 10 for a malformed
parameter, 70 for an id that names nothing), never code 0; a property-based run sends
generated hostile parameters to every method and checks the same, and that the user's
play queue does not change.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from tracker.models import Tracker

from .test_methods import fails

pytestmark = pytest.mark.django_db

BAD_IDS = ["tr-²", "tr-٣", "²", "tr-" + "9" * 30, "9" * 30, "al-" + str(2**63), "ar-" + str(2**70), "tr--1", "tr-1.0"]
BAD_NUMBERS = ["99999999999999999999", "9" * 5000, "²", "٣", "1e3", "-" + "9" * 30, "0x10", str(2**53)]


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize("method, param", [
    ("getSong", "id"), ("getAlbum", "id"), ("getArtist", "id"), ("getMusicDirectory", "id"), ("star", "id"),
    ("getCoverArt", "id"), ("stream", "id"), ("getPlaylist", "id"), ("savePlayQueue", "id"), ("scrobble", "id"),
    ("createBookmark", "id"),
])
def test_ids_in_other_scripts_or_out_of_range_name_nothing(catalogue, alice, method, param, value):
    response = alice.json(method, **{param: value, "position": "0"})
    assert response["status"] == "failed" and response["error"]["code"] == 70, response
    assert response["error"]["message"]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("method, param", [
    ("search3", "songOffset"), ("search3", "albumCount"), ("search2", "artistOffset"), ("getAlbumList2", "offset"),
    ("getAlbumList2", "size"), ("getAlbumList2", "musicFolderId"), ("getRandomSongs", "musicFolderId"),
    ("getSongsByGenre", "offset"), ("getSongsByGenre", "count"), ("savePlayQueue", "position"), ("setRating", "rating"),
    ("getCoverArt", "size"),
])
def test_malformed_or_huge_numbers_are_error_10(catalogue, alice, method, param, value):
    fixed = {"query": "a", "type": "newest", "genre": "Rock", "id": f"tr-{catalogue['tracks'][0]}", "rating": "3"}
    message = fails(alice, method, 10, **{**fixed, param: value})
    assert param in message


def test_a_stored_queue_entry_past_the_range_does_not_break_get_play_queue(catalogue, alice):
    first, second = catalogue["tracks"][:2]
    alice.ok("savePlayQueue", id=[f"tr-{first}", f"tr-{second}"], current=f"tr-{second}")
    player = Tracker.objects.get(kind="player", owner=alice.user)
    player.state = {**player.state, "queue": [first, 2**70, second], "index": 2, "order": [0, 1, 2]}
    player.save()
    queue = alice.ok("getPlayQueue")["playQueue"]
    assert [entry["id"] for entry in queue["entry"]] == [f"tr-{first}", f"tr-{second}"]
    assert queue["current"] == f"tr-{second}"


# -- property-based ------------------------------------------------------------------------------

METHODS = {
    "getSong": ["id"], "getAlbum": ["id"], "getArtist": ["id"], "getMusicDirectory": ["id"], "getCoverArt": ["id", "size"],
    "getAlbumList": ["type", "size", "offset", "musicFolderId", "fromYear", "toYear", "genre"],
    "getAlbumList2": ["type", "size", "offset", "musicFolderId", "fromYear", "toYear"],
    "getRandomSongs": ["size", "fromYear", "toYear", "musicFolderId", "genre"],
    "getSongsByGenre": ["genre", "count", "offset", "musicFolderId"],
    "search2": ["query", "artistCount", "artistOffset", "albumCount", "albumOffset", "songCount", "songOffset", "musicFolderId"],
    "search3": ["query", "artistCount", "artistOffset", "albumCount", "albumOffset", "songCount", "songOffset", "musicFolderId"],
    "star": ["id", "albumId", "artistId"], "unstar": ["id", "albumId", "artistId"], "setRating": ["id", "rating"],
    "scrobble": ["id", "time", "submission"], "getPlaylist": ["id"], "createPlaylist": ["playlistId", "songId"],
    "updatePlaylist": ["playlistId", "songIdToAdd", "songIndexToRemove"], "deletePlaylist": ["id"],
    "savePlayQueue": ["id", "current", "position"], "createBookmark": ["id", "position"], "deleteBookmark": ["id"],
    "getLyricsBySongId": ["id"], "getIndexes": ["musicFolderId", "ifModifiedSince"], "getUser": ["username"],
}
hostile = st.one_of(
    st.sampled_from(BAD_IDS + BAD_NUMBERS + ["", " ", "-1", "0", "true", "null", "[]", "tr-", "-", "pl-0", "co-" + "9" * 19]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=30).filter(lambda text: "\x00" not in text),
    st.sampled_from(["²³", "١٢٣", "𝟗𝟗", "Ⅻ", "½"]).map(lambda digits: "tr-" + digits),
)


@st.composite
def calls(draw):
    method = draw(st.sampled_from(sorted(METHODS)))
    params = {name: draw(hostile) for name in draw(st.sets(st.sampled_from(METHODS[method]), min_size=1, max_size=3))}
    return method, params


def test_generated_hostile_parameters_never_get_code_0_and_change_no_queue(catalogue, alice):
    first = catalogue["tracks"][0]
    alice.ok("savePlayQueue", id=[f"tr-{first}"], position="1000")
    player = Tracker.objects.get(kind="player", owner=alice.user)
    before = (player.version, player.state)

    @hypothesis_settings(max_examples=150, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(calls())
    def fuzz(call):
        method, params = call
        if method == "savePlayQueue":
            params["id"] = [params.get("id", ""), "tr-²"]  # a queue that would change is refused
        response = alice.raw(method, f="json", **params)
        assert response.status_code in (200, 404), (call, response.status_code)
        if response["Content-Type"].startswith("application/json"):
            body = response.json()["subsonic-response"]
            if body["status"] == "failed":
                assert body["error"]["code"] != 0 and body["error"]["message"], (call, body)
        player.refresh_from_db()
        assert (player.version, player.state) == before, call

    fuzz()


def test_a_deeply_nested_credentials_body_is_a_400(make_user):
    """The browser UI's JSON endpoint reads its body itself: nesting past the recursion limit is bad_request."""
    from django.test import Client

    browser = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    browser.force_login(make_user("erin"))
    browser.cookies.load({"csrftoken": "a" * 32})
    response = browser.post("/rest/credentials", "[" * 50_000, content_type="application/json", HTTP_X_CSRFTOKEN="a" * 32)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
