"""Every catalogue method in JSON and XML: element and attribute names and types, the same
data in both formats, and the error cases (missing parameters, unknown ids)."""
from __future__ import annotations

import pytest

from . import helpers as h

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


def both(client, method: str, **params) -> dict:
    """The JSON body, after checking that the XML answer carries exactly the same data."""
    body = client.ok(method, **params)
    h.assert_same(body, client.ok_xml(method, **params))
    return body


def fails(client, method: str, expected: int, **params) -> str:
    body = client.json(method, **params)
    assert body["status"] == "failed" and body["error"]["code"] == expected, body
    root = client.xml(method, **params)
    assert root.get("status") == "failed" and root.find(h.NS + "error").get("code") == str(expected)
    return body["error"]["message"]


# -- system -------------------------------------------------------------------------------------


def test_ping_license_folders_scan_status(catalogue, alice):
    assert set(both(alice, "ping")) == {"status", "version", "type", "serverVersion", "openSubsonic"}
    assert both(alice, "getLicense")["license"] == {"valid": True}
    assert both(alice, "getMusicFolders")["musicFolders"] == {"musicFolder": [{"id": catalogue["library"], "name": "Music"}]}
    assert both(alice, "getScanStatus")["scanStatus"] == {"scanning": False, "count": 30}


def test_get_user_roles(catalogue, alice, admin):
    user = both(alice, "getUser", username="alice")["user"]
    assert user["username"] == "alice" and user["adminRole"] is False and user["streamRole"] is True
    assert user["folder"] == [catalogue["library"]]
    assert both(admin, "getUser", username="root")["user"]["adminRole"] is True
    assert both(admin, "getUser", username="alice")["user"]["username"] == "alice"
    fails(alice, "getUser", 50, username="root")
    fails(admin, "getUser", 70, username="nobody")


def test_start_scan_is_for_staff_and_queues_a_scan(catalogue, admin, alice):
    from library.models import ScanRun

    fails(alice, "startScan", 50)
    status = admin.ok("startScan")["scanStatus"]
    assert status["scanning"] is True and status["count"] == 30
    assert ScanRun.objects.filter(trigger="api", status=ScanRun.QUEUED, requested_by=admin.user).count() == 1


# -- browsing -----------------------------------------------------------------------------------


def test_get_indexes_and_get_artists(catalogue, alice):
    indexes = alice.ok("getIndexes")["indexes"]  # lastModified is the time: no XML comparison
    assert isinstance(indexes["lastModified"], int) and indexes["ignoredArticles"] == "The A An"
    artists = both(alice, "getArtists")["artists"]
    for index in indexes["index"] + artists["index"]:
        assert isinstance(index["name"], str) and len(index["name"]) == 1
    short = [a for index in indexes["index"] for a in index["artist"]]
    full = [a for index in artists["index"] for a in index["artist"]]
    h.check_all(short, h.ARTIST, "indexes")
    h.check_all(full, h.ARTIST_ID3, "artists")
    assert sorted(int(a["id"].removeprefix("ar-")) for a in full) == catalogue["artists"]
    assert [a["id"] for a in short] == [a["id"] for a in full]
    assert all(a["albumCount"] >= 1 for a in full)
    names = [index["name"] for index in artists["index"]]
    assert names == sorted(names, key=lambda n: (n == "#", n))


def test_music_directory_of_an_artist_then_of_an_album(catalogue, alice):
    artist = f"ar-{catalogue['artists'][0]}"
    directory = both(alice, "getMusicDirectory", id=artist)["directory"]
    assert directory["id"] == artist and isinstance(directory["name"], str)
    h.check_all(directory["child"], h.ALBUM_DIR, "artist dir")
    album = directory["child"][0]
    assert album["isDir"] is True and album["parent"] == artist
    songs = both(alice, "getMusicDirectory", id=album["id"])["directory"]
    assert songs["id"] == album["id"] and songs["parent"] == artist and songs["name"] == album["title"]
    h.check_all(songs["child"], h.SONG, "album dir")
    assert {song["parent"] for song in songs["child"]} == {album["id"]}
    assert all(song["isDir"] is False for song in songs["child"])


def test_get_artist_get_album_get_song(catalogue, alice):
    artist = both(alice, "getArtist", id=f"ar-{catalogue['artists'][0]}")["artist"]
    h.check(artist, h.ARTIST_ID3, "artist")
    h.check_all(artist["album"], h.ALBUM_ID3, "artist.album")
    assert artist["albumCount"] == len(artist["album"])

    album = both(alice, "getAlbum", id=artist["album"][0]["id"])["album"]
    h.check(album, h.ALBUM_ID3, "album")
    h.check_all(album["song"], h.SONG, "album.song")
    assert album["songCount"] == len(album["song"]) and album["artistId"] == artist["id"]
    assert album["coverArt"].startswith("co-")
    discs = [(song.get("discNumber") or 0, song.get("track") or 0) for song in album["song"]]
    assert discs == sorted(discs)

    song = both(alice, "getSong", id=album["song"][0]["id"])["song"]
    h.check(song, h.SONG, "song")
    same = lambda element: {k: v for k, v in element.items() if k != "musicBrainzId"}  # noqa: E731 (getSong's detail)
    assert same(song) == same(album["song"][0])
    assert song["albumId"] == album["id"] and song["contentType"].startswith("audio/")
    assert song["duration"] >= 1 and song["size"] > 0 and song["playCount"] == 0
    # Bare numbers work where only one kind can be meant.
    assert alice.ok("getSong", id=song["id"].removeprefix("tr-"))["song"]["id"] == song["id"]
    assert alice.ok("getAlbum", id=album["id"].removeprefix("al-"))["album"]["id"] == album["id"]


def test_get_genres(catalogue, alice):
    genres = both(alice, "getGenres")["genres"]["genre"]
    assert [g["value"] for g in genres] == catalogue["genres"]
    for genre in genres:
        assert isinstance(genre["songCount"], int) and isinstance(genre["albumCount"], int)


@pytest.mark.parametrize(
    "method,params,expected",
    [
        ("getMusicDirectory", {}, 10),
        ("getMusicDirectory", {"id": "ar-999999"}, 70),
        ("getMusicDirectory", {"id": "tr-1"}, 70),
        ("getMusicDirectory", {"id": "garbage"}, 70),
        ("getArtist", {}, 10),
        ("getArtist", {"id": "ar-999999"}, 70),
        ("getArtist", {"id": "al-1"}, 70),
        ("getAlbum", {}, 10),
        ("getAlbum", {"id": "al-999999"}, 70),
        ("getSong", {}, 10),
        ("getSong", {"id": "tr-999999"}, 70),
        ("getSong", {"id": "-1"}, 70),
        ("getAlbumList", {}, 10),
        ("getAlbumList2", {"type": "sideways"}, 10),
        ("getAlbumList2", {"type": "byYear"}, 10),
        ("getAlbumList2", {"type": "byYear", "fromYear": 1990}, 10),
        ("getAlbumList2", {"type": "byGenre"}, 10),
        ("getAlbumList2", {"type": "newest", "size": "ten"}, 10),
        ("getSongsByGenre", {}, 10),
        ("stream", {}, 10),
        ("stream", {"id": "tr-999999"}, 70),
        ("download", {"id": "al-1"}, 70),
        ("getCoverArt", {}, 10),
        ("getCoverArt", {"id": "co-999999"}, 70),
        ("getCoverArt", {"id": "al-999999"}, 70),
        ("getLyricsBySongId", {}, 10),
        ("getLyricsBySongId", {"id": "tr-999999"}, 70),
    ],
)
def test_missing_parameters_and_unknown_ids(catalogue, alice, method, params, expected):
    fails(alice, method, expected, **params)


# -- lists ------------------------------------------------------------------------------------


LIST_TYPES = ["random", "newest", "highest", "frequent", "recent", "alphabeticalByName", "alphabeticalByArtist",
              "starred", "byYear", "byGenre"]


def _list_params(kind: str, catalogue) -> dict:
    if kind == "byYear":
        return {"fromYear": 1900, "toYear": 2100}
    if kind == "byGenre":
        return {"genre": catalogue["genres"][0].upper()}
    return {}


@pytest.mark.parametrize("kind", LIST_TYPES)
def test_album_lists_of_every_type(catalogue, alice, kind):
    from library.userdata import favourites, plays, ratings

    album_ids = catalogue["albums"]
    # Something to find for the per-user types.
    favourites.favourite_set(alice.user, "album", album_ids[0], True)
    ratings.rating_set(alice.user, "album", album_ids[-1], 5)
    ratings.rating_set(alice.user, "album", album_ids[0], 2)
    tracks = catalogue["tracks"]
    for track_id in (tracks[0], tracks[0], tracks[-1]):
        plays.play_record(alice.user, track_id)
    params = {"type": kind, "size": 50, **_list_params(kind, catalogue)}
    if kind == "random":
        albums = alice.ok("getAlbumList2", **params)["albumList2"]["album"]
        folders = alice.ok("getAlbumList", **params)["albumList"]["album"]
    else:
        albums = both(alice, "getAlbumList2", **params)["albumList2"]["album"]
        folders = both(alice, "getAlbumList", **params)["albumList"]["album"]
    h.check_all(albums, h.ALBUM_ID3, kind)
    h.check_all(folders, h.ALBUM_DIR, kind)
    found = [int(a["id"].removeprefix("al-")) for a in albums]
    if kind != "random":
        assert found == [int(a["id"].removeprefix("al-")) for a in folders]
    expected = {
        "starred": [album_ids[0]],
        "highest": [album_ids[-1], album_ids[0]],
    }
    if kind in expected:
        assert found == expected[kind]
    elif kind in ("frequent", "recent"):
        from library.models import Track

        first, last = (Track.objects.get(pk=t).album_id for t in (tracks[0], tracks[-1]))
        assert set(found) == {first, last}
        if kind == "frequent" and first != last:
            assert found[0] == first
    elif kind == "byGenre":
        assert found and all(catalogue["genres"][0] in [g["name"] for g in a["genres"]] for a in albums)
    else:
        assert sorted(found) == sorted(album_ids)
    if kind == "starred":
        assert albums[0]["starred"].endswith("Z") and albums[0]["userRating"] == 2


def test_album_list_paging_and_year_order(catalogue, alice):
    everything = alice.ok("getAlbumList2", type="alphabeticalByName", size=500)["albumList2"]["album"]
    names = [a["sortName"] for a in everything]
    assert names == sorted(names)
    page = alice.ok("getAlbumList2", type="alphabeticalByName", size=2, offset=1)["albumList2"]["album"]
    assert [a["id"] for a in page] == [a["id"] for a in everything[1:3]]
    newest_first = alice.ok("getAlbumList2", type="byYear", fromYear=2100, toYear=1900, size=500)["albumList2"]["album"]
    years = [a["year"] for a in newest_first]
    assert years == sorted(years, reverse=True)
    by_artist = alice.ok("getAlbumList2", type="alphabeticalByArtist", size=500)["albumList2"]["album"]
    artists = [a["artist"].lower().removeprefix("the ") for a in by_artist]
    assert artists == sorted(artists)
    folder = alice.ok("getAlbumList2", type="newest", musicFolderId=catalogue["library"])["albumList2"]["album"]
    assert len(folder) == min(10, len(everything))
    assert alice.ok("getAlbumList2", type="newest", musicFolderId=999)["albumList2"]["album"] == []


def test_random_songs_and_songs_by_genre(catalogue, alice):
    songs = alice.ok("getRandomSongs", size=7)["randomSongs"]["song"]
    assert len(songs) == 7 and len({s["id"] for s in songs}) == 7
    h.check_all(songs, h.SONG, "random")
    root = alice.ok_xml("getRandomSongs", size=3)
    assert len(root.find(h.NS + "randomSongs").findall(h.NS + "song")) == 3
    genre = catalogue["genres"][0]
    ranged = alice.ok("getRandomSongs", size=500, genre=genre, fromYear=1900, toYear=2100)["randomSongs"]["song"]
    assert ranged and all(genre in [g["name"] for g in s["genres"]] for s in ranged)
    assert alice.ok("getRandomSongs", fromYear=3000)["randomSongs"]["song"] == []

    by_genre = both(alice, "getSongsByGenre", genre=genre.lower(), count=500)["songsByGenre"]["song"]
    assert len(by_genre) == len(ranged)
    h.check_all(by_genre, h.SONG, "byGenre")
    paged = alice.ok("getSongsByGenre", genre=genre, count=2, offset=1)["songsByGenre"]["song"]
    assert [s["id"] for s in paged] == [s["id"] for s in by_genre[1:3]]


# -- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method,result", [("search2", "searchResult2"), ("search3", "searchResult3")])
def test_search_finds_by_word_prefix(catalogue, alice, method, result):
    from library.models import Track

    track = Track.objects.order_by("id").first()
    word = track.title.split()[0][:4]
    found = both(alice, method, query=word)[result]
    assert track.pk in [int(s["id"].removeprefix("tr-")) for s in found.get("song", [])]
    h.check_all(found.get("song", []), h.SONG, method)
    h.check_all(found.get("album", []), h.ALBUM_ID3 if method == "search3" else h.ALBUM_DIR, method)
    h.check_all(found.get("artist", []), h.ARTIST_ID3 if method == "search3" else h.ARTIST, method)


@pytest.mark.parametrize("query", ["", '""', "*"])
def test_an_empty_search_returns_everything_paged(catalogue, alice, query):
    full = both(alice, "search3", query=query, artistCount=1000, albumCount=1000, songCount=1000)["searchResult3"]
    assert sorted(int(s["id"][3:]) for s in full["song"]) == catalogue["tracks"]
    assert sorted(int(a["id"][3:]) for a in full["album"]) == catalogue["albums"]
    assert set(catalogue["artists"]) <= {int(a["id"][3:]) for a in full["artist"]}
    pages = []
    for offset in range(0, 30, 7):
        pages += alice.ok("search3", query=query, songCount=7, songOffset=offset, artistCount=0,
                          albumCount=0)["searchResult3"]["song"]
    assert [s["id"] for s in pages] == [s["id"] for s in full["song"]]
    nothing = alice.ok("search3", query=query, artistCount=0, albumCount=0, songCount=0)["searchResult3"]
    assert nothing == {"artist": [], "album": [], "song": []}


def test_search_counts_and_offsets_per_kind(catalogue, alice):
    every = alice.ok("search3", query="", songCount=30)["searchResult3"]["song"]
    part = alice.ok("search3", query="", songCount=5, songOffset=25, albumCount=1, artistOffset=2)["searchResult3"]
    assert [s["id"] for s in part["song"]] == [s["id"] for s in every[25:30]]
    assert len(part["album"]) == 1


# -- media ------------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_stream_and_download_serve_the_original_with_ranges(catalogue, alice):
    from library.models import Track

    track = Track.objects.select_related("library").order_by("id").first()
    data = (catalogue["root"] / track.path).read_bytes()
    whole = alice.raw("stream", id=f"tr-{track.pk}", maxBitRate=128, format="raw")  # raw: always the original
    assert whole.status_code == 200 and _body(whole) == data
    assert whole["Content-Type"].startswith("audio/") and whole["Accept-Ranges"] == "bytes"
    ranged = alice.http.get("/rest/stream.view", {"id": f"tr-{track.pk}", **alice.credentials()}, HTTP_RANGE="bytes=10-19")
    assert ranged.status_code == 206 and _body(ranged) == data[10:20]
    assert ranged["Content-Range"] == f"bytes 10-19/{len(data)}"
    download = alice.raw("download", id=str(track.pk))
    assert download.status_code == 200 and _body(download) == data
    assert download["Content-Disposition"].startswith("attachment")


def test_stream_of_a_missing_file_is_error_70(catalogue, alice, tmp_path):
    from library.models import Track

    track = Track.objects.order_by("id").first()
    Track.objects.filter(pk=track.pk).update(path="gone/missing.mp3")
    fails(alice, "stream", 70, id=f"tr-{track.pk}")


def test_cover_art_by_cover_album_track_and_artist_id_with_size(catalogue, alice):
    from PIL import Image
    import io

    album = alice.ok("getAlbum", id=f"al-{catalogue['albums'][0]}")["album"]
    song = album["song"][0]
    for ident in (album["coverArt"], album["id"], song["id"], song["coverArt"], album["artistId"]):
        response = alice.raw("getCoverArt", id=ident)
        assert response.status_code == 200 and response["Content-Type"].startswith("image/"), ident
    small = alice.raw("getCoverArt", id=album["coverArt"], size=32)
    image = Image.open(io.BytesIO(_body(small)))
    assert max(image.size) <= 32


def test_lyrics(catalogue, alice):
    from library.models import Track

    track = Track.objects.exclude(lyrics="").order_by("id").first()
    lyrics = both(alice, "getLyrics", artist=track.artist_display, title=track.title)["lyrics"]
    assert lyrics["title"] == track.title and lyrics["value"].splitlines()[0] == track.lyrics.splitlines()[0]
    assert both(alice, "getLyrics", artist="Nobody", title="Nothing")["lyrics"] == {"artist": "Nobody", "title": "Nothing", "value": ""}

    structured = both(alice, "getLyricsBySongId", id=f"tr-{track.pk}")["lyricsList"]["structuredLyrics"]
    assert len(structured) == 1 and structured[0]["synced"] is False and structured[0]["lang"] == "xxx"
    assert [line["value"] for line in structured[0]["line"]] == track.lyrics.rstrip("\n").splitlines()
    plain = Track.objects.filter(lyrics="").order_by("id").first()
    assert both(alice, "getLyricsBySongId", id=f"tr-{plain.pk}")["lyricsList"] == {"structuredLyrics": []}


def test_synced_lyrics_are_parsed_from_lrc():
    from library.lyrics import parse_lyrics

    synced, lines = parse_lyrics("[ar:Someone]\n[offset:100]\n[00:01.50]first\n[00:00.20][00:03.00]chorus\n")
    assert synced is True
    assert lines == [{"start": 100, "value": "chorus"}, {"start": 1400, "value": "first"}, {"start": 2900, "value": "chorus"}]


def test_a_huge_range_on_stream_and_cover_art_is_416_or_whole_never_500(catalogue, alice):
    from library.models import Track

    track = Track.objects.order_by("id").first()
    huge = "bytes=" + "9" * 5000 + "-"
    for method in ("stream", "download"):
        response = alice.http.get(f"/rest/{method}.view", {"id": f"tr-{track.pk}", **alice.credentials()}, HTTP_RANGE=huge)
        assert response.status_code == 416, method
    album = alice.ok("getAlbum", id=f"al-{catalogue['albums'][0]}")["album"]
    cover = alice.http.get("/rest/getCoverArt.view", {"id": album["coverArt"], **alice.credentials()}, HTTP_RANGE=huge)
    assert cover.status_code == 200 and cover["Content-Type"].startswith("image/")
