"""``musicFolderId`` narrows every browsing, list and search method to one library.

Two libraries from one generated catalogue: "Solo" holds the folder of one artist (whose
tracks name nobody else), "Music" the rest."""
from __future__ import annotations

import shutil

import pytest

from library.sample import make_sample_library

from .conftest import Subsonic

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def two_libraries(django_db_blocker, tmp_path_factory):
    from library.models import Track
    from orchestrator import services

    root, solo_root = tmp_path_factory.mktemp("music"), tmp_path_factory.mktemp("solo")
    summary = make_sample_library(root, count=30, seed=3)
    by_folder: dict[str, list] = {}
    for track in summary.tracks:
        by_folder.setdefault(track.path.split("/")[0], []).append(track)
    solo = None
    for folder, tracks in sorted(by_folder.items()):
        names = {name for t in tracks for name in (*t.artists, *t.album_artists)}
        others = {name for f, ts in by_folder.items() if f != folder for t in ts for name in (*t.artists, *t.album_artists)}
        if len(names) == 1 and not names & others:
            solo = (folder, names.pop(), len(tracks), {t.album for t in tracks})
            break
    assert solo is not None, "the generator made no artist of their own folder"
    shutil.move(str(root / solo[0]), str(solo_root / solo[0]))
    with django_db_blocker.unblock():
        music = services.library_add("Music", str(root), interval=0)
        other = services.library_add("Solo", str(solo_root), interval=0)
        for library in (music, other):
            assert services.scan_now(library, trigger="command", workers=1).status == "completed"
        data = {"music": music.pk, "solo": other.pk, "artist": solo[1], "tracks": solo[2], "albums": solo[3],
                "all_tracks": Track.objects.count(),
                "solo_track_ids": list(Track.objects.filter(library=other).values_list("id", flat=True))}
    yield data
    with django_db_blocker.unblock():
        services.library_remove(music.pk, force=True)
        services.library_remove(other.pk, force=True)


@pytest.fixture
def carol(subsonic_user) -> Subsonic:
    user, password = subsonic_user("carol")
    return Subsonic("carol", password)


def _artists_of(indexes: dict) -> list[str]:
    return [artist["name"] for index in indexes.get("index", []) for artist in index["artist"]]


def test_indexes_and_artists_of_a_folder_with_one_artist(two_libraries, carol):
    solo = two_libraries["solo"]
    assert _artists_of(carol.ok("getIndexes", musicFolderId=solo)["indexes"]) == [two_libraries["artist"]]
    assert _artists_of(carol.ok("getArtists", musicFolderId=solo)["artists"]) == [two_libraries["artist"]]
    everyone = _artists_of(carol.ok("getArtists")["artists"])
    music = _artists_of(carol.ok("getArtists", musicFolderId=two_libraries["music"])["artists"])
    assert len(everyone) >= 2 and two_libraries["artist"] in everyone
    assert sorted(music + [two_libraries["artist"]]) == sorted(everyone)
    solo_artist = carol.ok("getArtists", musicFolderId=solo)["artists"]["index"][0]["artist"][0]
    assert solo_artist["albumCount"] == len(two_libraries["albums"])


def test_lists_and_searches_of_a_folder(two_libraries, carol):
    solo, names = two_libraries["solo"], two_libraries["albums"]
    for kind in ("alphabeticalByName", "newest", "alphabeticalByArtist", "random"):
        listed = carol.ok("getAlbumList2", type=kind, size=500, musicFolderId=solo)["albumList2"]["album"]
        assert {album["name"] for album in listed} == names, kind
        listed = carol.ok("getAlbumList", type=kind, size=500, musicFolderId=solo)["albumList"]["album"]
        assert {album["title"] for album in listed} == names, kind
    songs = carol.ok("getRandomSongs", size=500, musicFolderId=solo)["randomSongs"]["song"]
    assert len(songs) == two_libraries["tracks"] and {s["artist"] for s in songs} == {two_libraries["artist"]}
    for method, key in (("search2", "searchResult2"), ("search3", "searchResult3")):
        found = carol.ok(method, query="", artistCount=500, albumCount=500, songCount=500, musicFolderId=solo)[key]
        assert [a["name"] for a in found["artist"]] == [two_libraries["artist"]], method
        assert {a.get("name") or a.get("title") for a in found["album"]} == names, method
        assert len(found["song"]) == two_libraries["tracks"], method
        # A word of the artist's name: the same single artist in the folder, found elsewhere not at all.
        word = two_libraries["artist"].split()[-1]
        found = carol.ok(method, query=word, musicFolderId=solo)[key]
        assert [a["name"] for a in found["artist"]] == [two_libraries["artist"]], method
        found = carol.ok(method, query=word, musicFolderId=two_libraries["music"])[key]
        assert two_libraries["artist"] not in [a["name"] for a in found.get("artist", [])], method


def test_genres_songs_by_genre_and_starred_of_a_folder(two_libraries, carol):
    solo = two_libraries["solo"]
    genres = carol.ok("getGenres", musicFolderId=solo)["genres"]["genre"]
    assert sum(g["songCount"] for g in genres) >= two_libraries["tracks"]
    everywhere = {g["value"]: g["songCount"] for g in carol.ok("getGenres")["genres"]["genre"]}
    assert all(g["songCount"] <= everywhere[g["value"]] for g in genres)
    assert sum(g["songCount"] for g in genres) < sum(everywhere.values())
    genre = genres[0]["value"]
    songs = carol.ok("getSongsByGenre", genre=genre, count=500, musicFolderId=solo)["songsByGenre"]["song"]
    assert len(songs) == genres[0]["songCount"] and {s["artist"] for s in songs} == {two_libraries["artist"]}
    solo_track = two_libraries["solo_track_ids"][0]
    other_track = carol.ok("search3", query="", songCount=1, musicFolderId=two_libraries["music"])["searchResult3"]["song"][0]
    carol.ok("star", id=[f"tr-{solo_track}", other_track["id"]])
    for method, key in (("getStarred", "starred"), ("getStarred2", "starred2")):
        assert [s["id"] for s in carol.ok(method, musicFolderId=solo)[key]["song"]] == [f"tr-{solo_track}"]
        assert len(carol.ok(method)[key]["song"]) == 2
