"""Every implemented Subsonic method, called with valid parameters in XML and JSON, by GET and
POST, against the official schemas (the hook of ``tests/conftest.py`` validates each answer;
see ``schema.py``), and the checks themselves refusing what lies outside the schemas."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from bridge.subsonic import methods
from bridge.subsonic.responses import envelope, to_json, to_xml

from . import helpers as h
from . import schema

methods.load_all()
pytestmark = pytest.mark.django_db

Params = Callable[[dict, Any], dict]


def _playlist(catalogue, client) -> str:
    return client.ok("createPlaylist", name="Schema", songId=f"tr-{catalogue['tracks'][0]}")["playlist"]["id"]


def _bookmark(catalogue, client) -> dict:
    client.ok("createBookmark", id=f"tr-{catalogue['tracks'][1]}", position=1000)
    return {"id": f"tr-{catalogue['tracks'][1]}"}


# Valid parameters per method (a function of the catalogue and the client, for ids made first).
# ``None``: the method changes something, so its XML and JSON answers are not compared.
CALLS: dict[str, tuple[Params, bool]] = {
    "ping": (lambda c, s: {}, True),
    "getLicense": (lambda c, s: {}, True),
    "getOpenSubsonicExtensions": (lambda c, s: {}, True),
    "getMusicFolders": (lambda c, s: {}, True),
    "getUser": (lambda c, s: {"username": s.username}, True),
    "getScanStatus": (lambda c, s: {}, True),
    "startScan": (lambda c, s: {}, False),
    "getIndexes": (lambda c, s: {"musicFolderId": c["library"]}, False),  # lastModified: the time of the call
    "getArtists": (lambda c, s: {"musicFolderId": c["library"]}, True),
    "getMusicDirectory": (lambda c, s: {"id": f"ar-{c['artists'][0]}"}, True),
    "getArtist": (lambda c, s: {"id": f"ar-{c['artists'][0]}"}, True),
    "getAlbum": (lambda c, s: {"id": f"al-{c['albums'][0]}"}, True),
    "getSong": (lambda c, s: {"id": f"tr-{c['tracks'][0]}"}, True),
    "getGenres": (lambda c, s: {}, True),
    "getAlbumList": (lambda c, s: {"type": "alphabeticalByName", "size": 50}, True),
    "getAlbumList2": (lambda c, s: {"type": "newest", "size": 50}, True),
    "getRandomSongs": (lambda c, s: {"size": 1}, False),  # random: both forms differ
    "getSongsByGenre": (lambda c, s: {"genre": c["genres"][0]}, True),
    "getStarred": (lambda c, s: {}, True),
    "getStarred2": (lambda c, s: {}, True),
    "getNowPlaying": (lambda c, s: {}, True),
    "search2": (lambda c, s: {"query": "", "songCount": 5}, True),
    "search3": (lambda c, s: {"query": "", "songCount": 5}, True),
    "star": (lambda c, s: {"id": f"tr-{c['tracks'][0]}", "albumId": f"al-{c['albums'][0]}",
                           "artistId": f"ar-{c['artists'][0]}"}, False),
    "unstar": (lambda c, s: {"id": f"tr-{c['tracks'][0]}"}, False),
    "setRating": (lambda c, s: {"id": f"al-{c['albums'][0]}", "rating": 4}, False),
    "scrobble": (lambda c, s: {"id": f"tr-{c['tracks'][0]}", "submission": "true"}, False),
    "getLyrics": (lambda c, s: {"artist": "Nobody", "title": "Nothing"}, True),
    "getLyricsBySongId": (lambda c, s: {"id": f"tr-{c['tracks'][0]}"}, True),
    "getPlaylists": (lambda c, s: {}, True),
    "getPlaylist": (lambda c, s: {"id": _playlist(c, s)}, False),
    "createPlaylist": (lambda c, s: {"name": "New", "songId": f"tr-{c['tracks'][0]}"}, False),
    "updatePlaylist": (lambda c, s: {"playlistId": _playlist(c, s), "name": "Renamed"}, False),
    "deletePlaylist": (lambda c, s: {"id": _playlist(c, s)}, False),
    "savePlayQueue": (lambda c, s: {"id": [f"tr-{c['tracks'][0]}", f"tr-{c['tracks'][1]}"],
                                    "current": f"tr-{c['tracks'][1]}", "position": 1000}, False),
    "getPlayQueue": (lambda c, s: {}, True),
    "getBookmarks": (lambda c, s: _bookmark(c, s) and {}, True),
    "createBookmark": (lambda c, s: {"id": f"tr-{c['tracks'][0]}", "position": 500}, False),
    "deleteBookmark": (lambda c, s: _bookmark(c, s), False),
    "getArtistInfo": (lambda c, s: {"id": f"ar-{c['artists'][0]}"}, True),
    "getArtistInfo2": (lambda c, s: {"id": f"ar-{c['artists'][0]}"}, True),
    "getAlbumInfo": (lambda c, s: {"id": f"al-{c['albums'][0]}"}, True),
    "getAlbumInfo2": (lambda c, s: {"id": f"al-{c['albums'][0]}"}, True),
    "getSimilarSongs": (lambda c, s: {"id": f"tr-{c['tracks'][0]}"}, False),  # shuffled
    "getSimilarSongs2": (lambda c, s: {"id": f"ar-{c['artists'][0]}"}, False),
    "getInternetRadioStations": (lambda c, s: {}, True),
    "getShares": (lambda c, s: {}, True),
    "createShare": (lambda c, s: {"id": f"tr-{c['tracks'][0]}", "description": "Schema"}, False),
    "getUsers": (lambda c, s: {}, True),
    "savePlayQueueByIndex": (lambda c, s: {"id": [f"tr-{c['tracks'][0]}", f"tr-{c['tracks'][0]}"],
                                           "currentIndex": 1, "position": 1000}, False),
}
# Methods that answer a file, with the parameters that name one.
BINARY = {
    "stream": ("audio/", lambda c, s: {"id": f"tr-{c['tracks'][0]}", "format": "raw"}),
    "download": ("audio/", lambda c, s: {"id": f"tr-{c['tracks'][0]}"}),
    "getCoverArt": ("image/", lambda c, s: {"id": f"al-{c['albums'][0]}"}),
    "getAvatar": ("image/", lambda c, s: {"username": s.username}),
}
STAFF = {"startScan", "getUsers"}


@pytest.mark.parametrize("name", sorted(methods.METHODS))
def test_every_method_answers_within_the_schemas(name, catalogue, alice, admin):
    """XML and JSON, GET and POST. Methods without listed parameters (added later elsewhere)
    are still called bare: whatever they answer, success or error, is validated."""
    client = admin if name in STAFF else alice
    if name in BINARY:
        kind, make = BINARY[name]
        for post in (False, True):
            response = client.raw(name, post=post, **make(catalogue, client))
            assert response.status_code == 200 and response["Content-Type"].startswith(kind), (name, response["Content-Type"])
        return
    make, compare = CALLS.get(name, (lambda c, s: {}, False))
    for post in (False, True):
        params = make(catalogue, client)
        xml = client.xml(name, post=post, **params)
        answer = json.loads(client.raw(name, post=post, f="json", **make(catalogue, client)).content)["subsonic-response"]
        if name in CALLS:
            assert xml.get("status") == "ok" and answer["status"] == "ok", (name, answer)
        if compare:
            h.assert_same(answer, client.ok_xml(name, **params))


def test_the_listed_calls_are_methods():
    assert set(CALLS) <= set(methods.METHODS) and set(BINARY) <= set(methods.METHODS)


def test_the_checks_refuse_undocumented_and_missing_fields():
    """An attribute no schema documents fails in XML and in JSON; a required JSON field missing fails."""
    extra = envelope("ok", {"scanStatus": {"scanning": False, "count": 1, "folderCount": 1}})
    with pytest.raises(schema.SchemaError, match="folderCount"):
        schema.validate_xml(to_xml(extra).encode())
    with pytest.raises(schema.SchemaError, match="folderCount"):
        schema.validate_json("getScanStatus", json.loads(to_json(extra)))
    with pytest.raises(schema.SchemaError, match="value"):
        schema.validate_json("getLyrics", json.loads(to_json(envelope("ok", {"lyrics": {"title": "x"}}))))
    fine = envelope("ok", {"scanStatus": {"scanning": False, "count": 1}})
    schema.validate_xml(to_xml(fine).encode())
    schema.validate_json("getScanStatus", json.loads(to_json(fine)))


def test_the_hook_checks_the_test_clients_answers(catalogue, alice, monkeypatch):
    """An answer outside the schema fails the test that receives it."""
    from bridge.subsonic import shapes

    original = shapes.artist
    monkeypatch.setattr(shapes, "artist", lambda item, marks=shapes.NO_MARKS: {**original(item, marks), "albumCount": 1})
    with pytest.raises(schema.SchemaError, match="albumCount"):
        alice.raw("search2", query="", songCount=1, f="json")
