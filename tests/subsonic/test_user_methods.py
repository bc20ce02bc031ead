"""Per-user methods in JSON and XML: stars, ratings, scrobbles and now playing, playlists
(including another user's), bookmarks, and the play queue as a device tracker."""
from __future__ import annotations

import time

import pytest

from . import helpers as h
from .conftest import Subsonic
from .test_methods import both, fails

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


@pytest.fixture
def bob(subsonic_user) -> Subsonic:
    user, password = subsonic_user("bob")
    client = Subsonic("bob", password, client="Bob's phone")
    client.user = user
    return client


def h_iso(value) -> str:
    from bridge.subsonic.shapes import iso

    return iso(value)


def tr(catalogue, index: int) -> str:
    return f"tr-{catalogue['tracks'][index]}"


# -- stars and ratings --------------------------------------------------------------------------


def test_star_unstar_and_the_starred_lists(catalogue, alice):
    album, artist = f"al-{catalogue['albums'][0]}", f"ar-{catalogue['artists'][0]}"
    both(alice, "star", id=[tr(catalogue, 0), tr(catalogue, 1)], albumId=album, artistId=artist)
    both(alice, "star", id=str(catalogue["tracks"][2]))  # a bare number is a song
    starred = both(alice, "getStarred2")["starred2"]
    assert {s["id"] for s in starred["song"]} == {tr(catalogue, i) for i in range(3)}
    assert [a["id"] for a in starred["album"]] == [album] and [a["id"] for a in starred["artist"]] == [artist]
    h.check_all(starred["song"], h.SONG, "starred2.song")
    h.check_all(starred["album"], h.ALBUM_ID3, "starred2.album")
    h.check_all(starred["artist"], h.ARTIST_ID3, "starred2.artist")
    assert all(item["starred"].endswith("Z") for kind in starred.values() for item in kind)

    folders = both(alice, "getStarred")["starred"]
    h.check_all(folders["album"], h.ALBUM_DIR, "starred.album")
    h.check_all(folders["artist"], h.ARTIST, "starred.artist")
    assert alice.ok("getSong", id=tr(catalogue, 0))["song"]["starred"].endswith("Z")

    both(alice, "unstar", id=tr(catalogue, 0), albumId=album, artistId=artist)
    starred = alice.ok("getStarred2")["starred2"]
    assert {s["id"] for s in starred["song"]} == {tr(catalogue, 1), tr(catalogue, 2)}
    assert starred["album"] == [] and starred["artist"] == []
    assert "starred" not in alice.ok("getSong", id=tr(catalogue, 0))["song"]


def test_star_errors_change_nothing(catalogue, alice):
    fails(alice, "star", 10)
    fails(alice, "star", 70, id=[tr(catalogue, 0), "tr-999999"])
    fails(alice, "star", 70, id="pl-1")
    assert alice.ok("getStarred2")["starred2"]["song"] == []


def test_stars_are_per_user(catalogue, alice, bob):
    alice.ok("star", id=tr(catalogue, 0))
    assert bob.ok("getStarred2")["starred2"]["song"] == []


def test_set_rating_on_songs_albums_and_artists(catalogue, alice):
    album = f"al-{catalogue['albums'][0]}"
    both(alice, "setRating", id=tr(catalogue, 0), rating=4)
    both(alice, "setRating", id=album, rating=5)
    both(alice, "setRating", id=f"ar-{catalogue['artists'][0]}", rating=3)
    assert alice.ok("getSong", id=tr(catalogue, 0))["song"]["userRating"] == 4
    assert alice.ok("getAlbum", id=album)["album"]["userRating"] == 5
    # ArtistID3 (getArtist) has no userRating in either schema; the short Artist has.
    indexed = [a for index in alice.ok("getIndexes")["indexes"]["index"] for a in index["artist"]]
    assert next(a for a in indexed if a["id"] == f"ar-{catalogue['artists'][0]}")["userRating"] == 3
    alice.ok("setRating", id=tr(catalogue, 0), rating=0)
    assert "userRating" not in alice.ok("getSong", id=tr(catalogue, 0))["song"]
    fails(alice, "setRating", 10, id=tr(catalogue, 0))
    fails(alice, "setRating", 10, id=tr(catalogue, 0), rating=9)
    fails(alice, "setRating", 70, id="tr-999999", rating=3)


# -- scrobbles and now playing -------------------------------------------------------------------


def test_scrobble_counts_plays_and_now_playing_shows_the_device(catalogue, alice, bob):
    both(alice, "scrobble", id=[tr(catalogue, 0), tr(catalogue, 1)], time=[int(time.time() * 1000) - 60_000, int(time.time() * 1000)])
    alice.ok("scrobble", id=tr(catalogue, 0))
    # ``both`` sent the first scrobble twice (JSON, then XML).
    assert alice.ok("getSong", id=tr(catalogue, 0))["song"]["playCount"] == 3
    assert alice.ok("getSong", id=tr(catalogue, 1))["song"]["playCount"] == 2
    assert bob.ok("getSong", id=tr(catalogue, 0))["song"]["playCount"] == 0

    alice.ok("scrobble", id=tr(catalogue, 5), submission="false")
    assert alice.ok("getSong", id=tr(catalogue, 5))["song"]["playCount"] == 0  # not a play
    entries = both(bob, "getNowPlaying")["nowPlaying"]["entry"]
    assert len(entries) == 1
    entry = entries[0]
    h.check(entry, {**h.SONG, "username": str, "minutesAgo": int, "playerId": int, "playerName": str}, "nowPlaying")
    assert entry["id"] == tr(catalogue, 5) and entry["username"] == "alice" and entry["playerName"] == "pytest"
    recent = alice.ok("getAlbumList2", type="recent")["albumList2"]["album"]
    assert recent


def test_scrobble_errors(catalogue, alice):
    fails(alice, "scrobble", 10)
    fails(alice, "scrobble", 70, id="tr-999999")
    fails(alice, "scrobble", 10, id=tr(catalogue, 0), time="yesterday")


# -- playlists --------------------------------------------------------------------------------


def test_playlist_lifecycle(catalogue, alice):
    created = alice.ok("createPlaylist", name="Road trip", songId=[tr(catalogue, 0), tr(catalogue, 1), tr(catalogue, 0)])
    playlist = created["playlist"]
    h.check(playlist, h.PLAYLIST, "created")
    assert playlist["id"].startswith("pl-") and playlist["owner"] == "alice" and playlist["public"] is False
    assert [e["id"] for e in playlist["entry"]] == [tr(catalogue, 0), tr(catalogue, 1), tr(catalogue, 0)]
    assert playlist["songCount"] == 3 and playlist["coverArt"].startswith("co-")

    listed = both(alice, "getPlaylists")["playlists"]["playlist"]
    h.check_all(listed, h.PLAYLIST, "playlists")
    assert [p["id"] for p in listed] == [playlist["id"]] and "entry" not in listed[0]

    alice.ok("updatePlaylist", playlistId=playlist["id"], name="Road trip 2", comment="summer", public="true",
         songIdToAdd=[tr(catalogue, 2)], songIndexToRemove=[0, 2])
    got = both(alice, "getPlaylist", id=playlist["id"])["playlist"]
    h.check(got, h.PLAYLIST, "playlist")
    h.check_all(got["entry"], h.SONG, "playlist.entry")
    assert got["name"] == "Road trip 2" and got["comment"] == "summer" and got["public"] is True
    assert [e["id"] for e in got["entry"]] == [tr(catalogue, 1), tr(catalogue, 2)]

    replaced = alice.ok("createPlaylist", playlistId=playlist["id"], songId=[tr(catalogue, 3)])["playlist"]
    assert replaced["id"] == playlist["id"] and [e["id"] for e in replaced["entry"]] == [tr(catalogue, 3)]
    assert replaced["name"] == "Road trip 2"

    assert alice.raw("getCoverArt", id=playlist["id"])["Content-Type"].startswith("image/")

    alice.ok("deletePlaylist", id=playlist["id"])
    fails(alice, "getPlaylist", 70, id=playlist["id"])
    assert alice.ok("getPlaylists")["playlists"].get("playlist", []) == []


def test_playlist_errors(catalogue, alice):
    fails(alice, "createPlaylist", 10)
    fails(alice, "createPlaylist", 70, name="x", songId="tr-999999")
    fails(alice, "getPlaylist", 10)
    fails(alice, "getPlaylist", 70, id="pl-999999")
    fails(alice, "getPlaylist", 70, id="al-1")
    fails(alice, "updatePlaylist", 10)
    fails(alice, "deletePlaylist", 70, id="pl-999999")


def test_another_users_playlists(catalogue, alice, bob, admin):
    private = alice.ok("createPlaylist", name="Mine", songId=tr(catalogue, 0))["playlist"]["id"]
    shared = alice.ok("createPlaylist", name="Ours", songId=tr(catalogue, 1))["playlist"]["id"]
    alice.ok("updatePlaylist", playlistId=shared, public="true")

    # A private playlist does not exist for others; a public one can be read, not changed.
    fails(bob, "getPlaylist", 70, id=private)
    fails(bob, "updatePlaylist", 70, playlistId=private, name="taken")
    fails(bob, "deletePlaylist", 70, id=private)
    assert bob.ok("getPlaylist", id=shared)["playlist"]["owner"] == "alice"
    fails(bob, "updatePlaylist", 50, playlistId=shared, name="taken")
    fails(bob, "deletePlaylist", 50, id=shared)
    fails(bob, "createPlaylist", 50, playlistId=shared, songId=tr(catalogue, 2))
    assert [p["id"] for p in bob.ok("getPlaylists")["playlists"]["playlist"]] == [shared]
    fails(bob, "getPlaylists", 50, username="alice")
    assert {p["id"] for p in admin.ok("getPlaylists", username="alice")["playlists"]["playlist"]} == {private, shared}
    assert alice.ok("getPlaylist", id=shared)["playlist"]["name"] == "Ours"


# -- bookmarks --------------------------------------------------------------------------------


def test_bookmarks(catalogue, alice, bob):
    both(alice, "createBookmark", id=tr(catalogue, 0), position=61_000, comment="chapter 2")
    alice.ok("createBookmark", id=tr(catalogue, 1), position=5)
    alice.ok("createBookmark", id=tr(catalogue, 0), position=62_000)
    bookmarks = both(alice, "getBookmarks")["bookmarks"]["bookmark"]
    assert [(b["entry"]["id"], b["position"]) for b in bookmarks] == [(tr(catalogue, 0), 62_000), (tr(catalogue, 1), 5)]
    for bookmark in bookmarks:
        h.check(bookmark, {"position": int, "username": str, "created": str, "changed": str, "entry": dict,
                           "?comment": str}, "bookmark")
        h.check(bookmark["entry"], h.SONG, "bookmark.entry")
    assert bob.ok("getBookmarks")["bookmarks"].get("bookmark", []) == []
    both(alice, "deleteBookmark", id=tr(catalogue, 0))
    assert [b["entry"]["id"] for b in alice.ok("getBookmarks")["bookmarks"]["bookmark"]] == [tr(catalogue, 1)]
    fails(alice, "createBookmark", 10, id=tr(catalogue, 0))
    fails(alice, "createBookmark", 70, id="tr-999999", position=1)
    fails(alice, "deleteBookmark", 70, id="tr-999999")


# -- the play queue ---------------------------------------------------------------------------


def _player(user, name):
    from tracker.models import Tracker

    return Tracker.objects.get(kind="player", owner=user, key=name)


def test_save_play_queue_is_a_device_of_the_user(catalogue, alice):
    empty = alice.ok("getPlayQueue")["playQueue"]  # nothing saved yet: an empty queue, dated when alice joined
    assert empty == {"username": "alice", "changed": h_iso(alice.user.date_joined), "changedBy": "pytest", "entry": []}
    queue = [tr(catalogue, 3), tr(catalogue, 4), tr(catalogue, 5)]
    both(alice, "savePlayQueue", id=queue, current=queue[1], position=12_345)
    player = _player(alice.user, "pytest")
    assert player.state["device"] == "pytest"
    assert player.state["queue"] == [catalogue["tracks"][i] for i in (3, 4, 5)]
    assert player.state["index"] == 1 and player.state["position_ms"] == 12_345 and player.state["playing"] is False
    assert player.actions.filter(name="player.queue.replace").count() == 1

    got = both(alice, "getPlayQueue")["playQueue"]
    h.check(got, {"current": str, "position": int, "username": str, "changed": str, "changedBy": str, "entry": list}, "playQueue")
    assert got["current"] == queue[1] and got["position"] == 12_345 and got["changedBy"] == "pytest"
    assert [e["id"] for e in got["entry"]] == queue
    h.check_all(got["entry"], h.SONG, "playQueue.entry")

    # Saving the same queue again changes nothing (apps save often).
    version = player.version
    alice.ok("savePlayQueue", id=queue, current=queue[1], position=12_345)
    player.refresh_from_db()
    assert player.version == version

    # An empty queue clears the device.
    alice.ok("savePlayQueue")
    player.refresh_from_db()
    assert player.state["queue"] == [] and player.actions.filter(name="player.queue.clear").count() == 1


def test_another_app_picks_up_the_last_saved_queue(catalogue, alice):
    alice.ok("savePlayQueue", id=[tr(catalogue, 0), tr(catalogue, 1)], current=tr(catalogue, 1), position=9000)
    other = Subsonic("alice", alice.password, client="Symfonium")
    got = other.ok("getPlayQueue")["playQueue"]
    assert got["current"] == tr(catalogue, 1) and got["changedBy"] == "pytest" and got["position"] == 9000
    other.ok("savePlayQueue", id=[tr(catalogue, 7)])
    assert other.ok("getPlayQueue")["playQueue"]["changedBy"] == "Symfonium"
    # One queue per user: the first app now resumes the other's, while keeping its own device.
    resumed = alice.ok("getPlayQueue")["playQueue"]
    assert resumed["changedBy"] == "Symfonium" and [e["id"] for e in resumed["entry"]] == [tr(catalogue, 7)]
    assert _player(alice.user, "pytest").state["queue"] == [catalogue["tracks"][0], catalogue["tracks"][1]]


def test_play_queues_are_per_user(catalogue, alice, bob):
    alice.ok("savePlayQueue", id=[tr(catalogue, 0)])
    assert bob.ok("getPlayQueue")["playQueue"]["entry"] == []


def test_save_play_queue_errors(catalogue, alice):
    fails(alice, "savePlayQueue", 70, id=[tr(catalogue, 0), "tr-999999"])
    fails(alice, "savePlayQueue", 70, id=["al-1"])
    fails(alice, "savePlayQueue", 10, id=[tr(catalogue, 0)], position="soon")
    from tracker.models import Tracker

    assert not Tracker.objects.filter(kind="player", owner=alice.user).exists()


def test_index_based_play_queue(catalogue, alice):
    """OpenSubsonic indexBasedQueue: the same song twice, the second copy current."""
    import json

    from .schema import validate_json, validate_xml as validate

    assert "indexBasedQueue" in {e["name"] for e in alice.ok("getOpenSubsonicExtensions")["openSubsonicExtensions"]}
    empty = alice.ok("getPlayQueueByIndex")["playQueueByIndex"]
    assert empty["entry"] == [] and "currentIndex" not in empty
    queue = [tr(catalogue, 1), tr(catalogue, 2), tr(catalogue, 1)]
    both(alice, "savePlayQueueByIndex", id=queue, currentIndex=2, position=4_000)
    assert _player(alice.user, "pytest").state["index"] == 2
    got = both(alice, "getPlayQueueByIndex")["playQueueByIndex"]
    assert got["currentIndex"] == 2 and got["position"] == 4_000 and [e["id"] for e in got["entry"]] == queue
    validate(alice.raw("getPlayQueueByIndex").content)
    validate_json("getPlayQueueByIndex", json.loads(alice.raw("getPlayQueueByIndex", f="json").content))
    assert alice.ok("getPlayQueue")["playQueue"]["current"] == tr(catalogue, 1)

    fails(alice, "savePlayQueueByIndex", 10, id=queue)  # currentIndex is required with songs
    fails(alice, "savePlayQueueByIndex", 10, id=queue, currentIndex=3)
    assert _player(alice.user, "pytest").state["queue"] == [catalogue["tracks"][i] for i in (1, 2, 1)]
    alice.ok("savePlayQueueByIndex")  # no songs: clears
    assert _player(alice.user, "pytest").state["queue"] == []
