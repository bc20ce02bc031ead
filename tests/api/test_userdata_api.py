"""REST endpoints of the caller's own data: each parses its body, calls one service of
``library.userdata`` and returns its result; errors in the API's one shape."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from library.models import Bookmark, Favourite, Play, Playlist, Rating
from tests.library import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]

API = "/api/v1"


# Fixtures live here (not in a conftest) so this module stands on its own.


@pytest.fixture
def users(make_user):
    return make_user("alice"), make_user("bob")


def _client(user, token_for) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def alice(users, token_for) -> APIClient:
    return _client(users[0], token_for)


@pytest.fixture
def bob(users, token_for) -> APIClient:
    return _client(users[1], token_for)


@pytest.fixture
def cat():
    f.library("Main")
    post = f.album("Post", "Björk", year=1995, cover=f.cover("post"))
    tracks = [f.track(title, post, number=n, duration_ms=200_000)
              for n, title in enumerate(["Army of Me", "Hyperballad", "Isobel"], 1)]
    return {"post": post.pk, "bjork": post.album_artist_id, "tracks": [t.pk for t in tracks]}


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


def made(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.content else None


URLS = [
    ("get", "/playlists/"), ("post", "/playlists/"), ("get", "/playlists/1/"), ("patch", "/playlists/1/"),
    ("delete", "/playlists/1/"), ("post", "/playlists/1/tracks/"), ("delete", "/playlists/1/tracks/0"),
    ("post", "/playlists/1/move/"), ("get", "/favourites/"), ("post", "/favourites/"),
    ("delete", "/favourites/track/1"), ("put", "/ratings/"), ("get", "/plays/"), ("post", "/plays/"),
    ("get", "/plays/now-playing/"), ("get", "/bookmarks/"), ("put", "/bookmarks/"), ("delete", "/bookmarks/1"),
]


@pytest.mark.parametrize("method, url", URLS)
def test_anonymous_callers_get_401(method, url, db):
    response = getattr(APIClient(), method)(API + url, {}, format="json")
    error_of(response, 401, "unauthenticated")


# -- playlists ------------------------------------------------------------------------------


def test_playlist_lifecycle(alice, cat):
    army, hyper, isobel = cat["tracks"]
    created = made(alice.post(f"{API}/playlists/", {"name": "Walk", "track_ids": [isobel, army]}, format="json"), 201)
    pid = created["id"]
    assert created["track_ids"] == [isobel, army] and created["cover"] is not None and created["duration_ms"] == 400_000
    added = made(alice.post(f"{API}/playlists/{pid}/tracks/", {"track_ids": [hyper], "position": 0}, format="json"))
    assert added["track_ids"] == [hyper, isobel, army]
    moved = made(alice.post(f"{API}/playlists/{pid}/move/", {"from_index": 0, "to_index": 2}, format="json"))
    assert moved["track_ids"] == [isobel, army, hyper]
    assert made(alice.delete(f"{API}/playlists/{pid}/tracks/1"))["track_ids"] == [isobel, hyper]
    patched = made(alice.patch(f"{API}/playlists/{pid}/", {"name": "Run", "comment": "fast", "public": True,
                                                           "remove_indexes": [0], "add_track_ids": [army]}, format="json"))
    assert (patched["name"], patched["comment"], patched["public"], patched["track_ids"]) == ("Run", "fast", True, [hyper, army])
    got = made(alice.get(f"{API}/playlists/{pid}/"))
    assert [t["title"] for t in got["tracks"]] == ["Hyperballad", "Army of Me"] and got["owner"]["username"] == "alice"
    assert [p["name"] for p in made(alice.get(f"{API}/playlists/"))] == ["Run"]
    assert made(alice.delete(f"{API}/playlists/{pid}/"), 204) is None
    error_of(alice.get(f"{API}/playlists/{pid}/"), 404, "not_found")


def test_other_users_playlists(alice, bob, cat):
    private = made(alice.post(f"{API}/playlists/", {"name": "Secret", "track_ids": cat["tracks"]}, format="json"), 201)
    shared = made(alice.post(f"{API}/playlists/", {"name": "Shared", "public": True}, format="json"), 201)
    error_of(bob.get(f"{API}/playlists/{private['id']}/"), 404, "not_found")
    assert made(bob.get(f"{API}/playlists/{shared['id']}/"))["name"] == "Shared"
    assert [p["name"] for p in made(bob.get(f"{API}/playlists/"))] == ["Shared"]
    error_of(bob.patch(f"{API}/playlists/{shared['id']}/", {"name": "Mine"}, format="json"), 403, "forbidden")
    error_of(bob.delete(f"{API}/playlists/{shared['id']}/"), 403, "forbidden")
    error_of(bob.post(f"{API}/playlists/{shared['id']}/tracks/", {"track_ids": cat["tracks"]}, format="json"), 403, "forbidden")
    error_of(bob.delete(f"{API}/playlists/{private['id']}/tracks/0"), 404, "not_found")
    assert Playlist.objects.get(pk=shared["id"]).name == "Shared"


@pytest.mark.parametrize("method, url, body, field", [
    ("post", "/playlists/", {}, "name"),
    ("post", "/playlists/", {"name": ""}, "name"),
    ("post", "/playlists/", {"name": "x" * 501}, "name"),
    ("post", "/playlists/", {"name": "x", "track_ids": [0]}, "track_ids"),
    ("post", "/playlists/", {"name": "x", "track_ids": "1,2"}, "track_ids"),
    ("post", "/playlists/", {"name": "x", "owner": 2}, "owner"),
    ("post", "/playlists/", {"name": "x", "track_ids": [1] * 10_001}, "track_ids"),
    ("patch", "/playlists/{pid}/", {"remove_indexes": [-1]}, "remove_indexes"),
    ("patch", "/playlists/{pid}/", {"public": "perhaps"}, "public"),
    ("post", "/playlists/{pid}/tracks/", {"track_ids": []}, "track_ids"),
    ("post", "/playlists/{pid}/move/", {"from_index": 0}, "to_index"),
    ("post", "/favourites/", {"kind": "song", "id": 1}, "kind"),
    ("put", "/ratings/", {"kind": "track", "id": 1, "rating": 6}, "rating"),
    ("post", "/plays/", {"track": 1, "played_at": "yesterday"}, "played_at"),
    ("put", "/bookmarks/", {"track": 1, "position_ms": -5}, "position_ms"),
])
def test_bad_bodies_are_invalid_payload_naming_the_field(alice, cat, method, url, body, field):
    pid = made(alice.post(f"{API}/playlists/", {"name": "Mine", "track_ids": cat["tracks"][:1]}, format="json"), 201)["id"]
    response = getattr(alice, method)(API + url.format(pid=pid), body, format="json")
    problem = error_of(response, 400, "invalid_payload")
    assert field in [detail["field"] for detail in problem["details"]], problem
    assert Playlist.objects.count() == 1 and Playlist.objects.get().name == "Mine"


@pytest.mark.parametrize("method, url, body", [
    ("delete", "/playlists/{pid}/tracks/5", None),
    ("post", "/playlists/{pid}/move/", {"from_index": 0, "to_index": 1}),
    ("post", "/playlists/{pid}/tracks/", {"track_ids": [1], "position": 2}),
])
def test_out_of_range_indexes_are_invalid_payload(alice, cat, method, url, body):
    pid = made(alice.post(f"{API}/playlists/", {"name": "One", "track_ids": cat["tracks"][:1]}, format="json"), 201)["id"]
    if body and "track_ids" in body:
        body = {**body, "track_ids": cat["tracks"][:1]}  # a track that exists, whatever ran before
    error_of(getattr(alice, method)(API + url.format(pid=pid), body, format="json"), 400, "invalid_payload")


def test_missing_tracks_and_playlists_are_not_found(alice, cat):
    error_of(alice.post(f"{API}/playlists/", {"name": "x", "track_ids": [999_999]}, format="json"), 404, "not_found")
    error_of(alice.get(f"{API}/playlists/999999/"), 404, "not_found")
    error_of(alice.get(f"{API}/playlists/99999999999999999999/"), 404, "not_found")
    assert not Playlist.objects.exists()


# -- favourites and ratings -----------------------------------------------------------------


def test_star_list_unstar(alice, bob, cat):
    army = cat["tracks"][0]
    starred = made(alice.post(f"{API}/favourites/", {"kind": "track", "id": army}, format="json"))
    assert starred["starred"] is True and starred["starred_at"]
    made(alice.post(f"{API}/favourites/", {"kind": "album", "id": cat["post"]}, format="json"))
    listed = made(alice.get(f"{API}/favourites/"))
    assert [t["title"] for t in listed["tracks"]] == ["Army of Me"] and [a["title"] for a in listed["albums"]] == ["Post"]
    assert listed["artists"] == [] and listed["tracks"][0]["starred_at"] == starred["starred_at"]
    assert made(bob.get(f"{API}/favourites/")) == {"artists": [], "albums": [], "tracks": []}
    assert made(alice.delete(f"{API}/favourites/track/{army}"))["starred"] is False
    assert made(alice.get(f"{API}/favourites/"))["tracks"] == []
    error_of(alice.delete(f"{API}/favourites/song/{army}"), 400, "invalid_payload")
    error_of(alice.post(f"{API}/favourites/", {"kind": "artist", "id": 999_999}, format="json"), 404, "not_found")
    assert Favourite.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "post"])
def test_ratings(alice, cat, method):
    army = cat["tracks"][0]
    send = getattr(alice, method)
    assert made(send(f"{API}/ratings/", {"kind": "track", "id": army, "rating": 5}, format="json")) == {
        "kind": "track", "id": army, "rating": 5}
    assert Rating.objects.get().rating == 5
    made(send(f"{API}/ratings/", {"kind": "track", "id": army, "rating": 0}, format="json"))
    assert not Rating.objects.exists()
    error_of(send(f"{API}/ratings/", {"kind": "album", "id": 999_999, "rating": 2}, format="json"), 404, "not_found")


# -- plays ----------------------------------------------------------------------------------


def test_plays_history_and_now_playing(alice, bob, cat):
    army, hyper, _ = cat["tracks"]
    played = made(alice.post(f"{API}/plays/", {"track": army, "played_at": "2024-05-01T10:00:00Z", "device": "phone"},
                             format="json"), 201)
    assert played["played_at"] == "2024-05-01T10:00:00+00:00" and played["device"] == "phone" and played["id"]
    made(alice.post(f"{API}/plays/", {"track": hyper}, format="json"), 201)
    page = made(alice.get(f"{API}/plays/?limit=1"))
    assert page["total"] == 2 and page["limit"] == 1 and [p["track"]["title"] for p in page["items"]] == ["Hyperballad"]
    assert made(alice.get(f"{API}/plays/?offset=1"))["items"][0]["track"]["title"] == "Army of Me"
    error_of(alice.get(f"{API}/plays/?limit=0"), 400, "invalid_payload")
    assert made(bob.get(f"{API}/plays/"))["total"] == 0

    now = made(alice.post(f"{API}/plays/", {"track": hyper, "submission": False, "device": "desk"}, format="json"), 200)
    assert now["id"] is None and now["submission"] is False
    listed = made(bob.get(f"{API}/plays/now-playing/"))
    assert [(n["user"]["username"], n["device"], n["track"]["title"]) for n in listed] == [("alice", "desk", "Hyperballad")]
    assert Play.objects.count() == 2
    error_of(alice.post(f"{API}/plays/", {"track": 999_999}, format="json"), 404, "not_found")


# -- bookmarks ------------------------------------------------------------------------------


def test_bookmarks(alice, bob, cat):
    army, hyper, _ = cat["tracks"]
    saved = made(alice.put(f"{API}/bookmarks/", {"track": army, "position_ms": 61_000, "comment": "verse"}, format="json"))
    assert (saved["track"]["id"], saved["position_ms"], saved["comment"]) == (army, 61_000, "verse")
    made(alice.post(f"{API}/bookmarks/", {"track": hyper, "position_ms": 5}, format="json"))
    made(alice.put(f"{API}/bookmarks/", {"track": army, "position_ms": 90_000}, format="json"))
    listed = made(alice.get(f"{API}/bookmarks/"))
    assert [(b["track"]["title"], b["position_ms"]) for b in listed] == [("Army of Me", 90_000), ("Hyperballad", 5)]
    assert made(bob.get(f"{API}/bookmarks/")) == []
    assert made(alice.delete(f"{API}/bookmarks/{army}"), 204) is None
    assert Bookmark.objects.count() == 1
    error_of(alice.delete(f"{API}/bookmarks/999999"), 404, "not_found")
    error_of(alice.put(f"{API}/bookmarks/", {"track": 999_999, "position_ms": 0}, format="json"), 404, "not_found")


def test_the_schema_documents_every_endpoint(alice):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in ["/api/v1/playlists/", "/api/v1/playlists/{playlist_id}/", "/api/v1/playlists/{playlist_id}/tracks/",
                 "/api/v1/playlists/{playlist_id}/tracks/{index}", "/api/v1/playlists/{playlist_id}/move/",
                 "/api/v1/favourites/", "/api/v1/favourites/{kind}/{object_id}", "/api/v1/ratings/",
                 "/api/v1/plays/", "/api/v1/plays/now-playing/", "/api/v1/bookmarks/", "/api/v1/bookmarks/{track_id}"]:
        assert path in paths, path
    create = paths["/api/v1/playlists/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PlaylistCreate")
    assert "201" in create["responses"] and "400" in create["responses"]
