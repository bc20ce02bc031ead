"""The Subsonic API against a live server, driven by the py-sonic client library (``libsonic``).

A real daphne process in the embedded mode (temporary data folder, SQLite, no Redis),
migrated, with users made by ``manage.py shell``, a Subsonic password set by
``manage.py subsonic_password``, and a catalogue of 30 generated audio files added and
scanned with ``manage.py library add`` and ``manage.py scan``. py-sonic speaks JSON with
token auth (and ``enc:`` passwords with ``legacyAuth``); the same methods are then called
over plain HTTP in XML.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from library.sample import make_sample_library

libsonic = pytest.importorskip("libsonic", reason="py-sonic (module libsonic) is not installed")

ROOT = Path(__file__).resolve().parents[2]
NS = "{http://subsonic.org/restapi}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        skip = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "WORKER_MODE", "SECRET_KEY", "DEBUG",
                "PYTEST_CURRENT_TEST", "TEST_DATA_DIR")
        self.env = {k: v for k, v in os.environ.items() if k not in skip}
        self.env.update(
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATA_DIR=str(workdir / "data"),
            DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
            Q_WORKERS="1",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self) -> None:
        log = open(self.workdir / "daphne.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "mediaproject.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer:\n{(self.workdir / 'daphne.log').read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("subsonic-live")
    live = LiveServer(workdir)
    live.manage("migrate", "--noinput")
    live.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model; U = get_user_model();"
        "U.objects.create_user('alice', password='login-password-alice', is_staff=True);"
        "U.objects.create_user('bob', password='login-password-bob')"
    ))
    live.password = live.manage("subsonic_password", "alice").strip()
    live.bob_password = live.manage("subsonic_password", "bob").strip()
    music = workdir / "music"
    make_sample_library(music, count=30, seed=1)
    live.manage("library", "add", "--name", "Music", str(music), "--interval", "0")
    live.manage("scan", "--library", "Music", "--workers", "1")
    live.music = music
    live.start()
    try:
        yield live
    finally:
        live.stop()


def connect(server, *, legacy: bool = False, user: str = "alice", app: str = "py-sonic") -> "libsonic.Connection":
    password = server.password if user == "alice" else server.bob_password
    return libsonic.Connection("http://127.0.0.1", user, password, port=server.port, appName=app, legacyAuth=legacy)


def xml_call(server, method: str, **params) -> ET.Element:
    """``method`` over GET in XML with token auth."""
    salt = secrets.token_hex(4)
    query = {"u": "alice", "s": salt, "t": hashlib.md5((server.password + salt).encode()).hexdigest(),
             "v": "1.16.1", "c": "xml-test", **params}
    url = f"http://127.0.0.1:{server.port}/rest/{method}.view?{urllib.parse.urlencode(query, doseq=True)}"
    with urllib.request.urlopen(url, timeout=15) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.read())
    assert root.tag == NS + "subsonic-response"
    return root


@pytest.mark.parametrize("legacy", [False, True], ids=["token", "enc-password"])
def test_py_sonic_exercises_every_method(server, legacy):
    sonic = connect(server, legacy=legacy)
    assert sonic.ping() is True
    assert sonic.getLicense()["license"]["valid"] is True
    assert sonic.getUser("alice")["user"]["adminRole"] is True
    folders = sonic.getMusicFolders()["musicFolders"]["musicFolder"]
    assert [f["name"] for f in folders] == ["Music"]
    assert sonic.getScanStatus()["scanStatus"]["count"] == 30
    assert "scanStatus" in sonic.startScan()

    # Browsing, by folders and by tags.
    indexes = sonic.getIndexes()["indexes"]["index"]
    artist_id = indexes[0]["artist"][0]["id"]
    albums = sonic.getMusicDirectory(artist_id)["directory"]["child"]
    songs = sonic.getMusicDirectory(albums[0]["id"])["directory"]["child"]
    assert songs and all(not s["isDir"] for s in songs)
    artists = sonic.getArtists()["artists"]["index"]
    assert [a["id"] for i in artists for a in i["artist"]] == [a["id"] for i in indexes for a in i["artist"]]
    artist = sonic.getArtist(artist_id)["artist"]
    album = sonic.getAlbum(artist["album"][0]["id"])["album"]
    song = sonic.getSong(album["song"][0]["id"])["song"]
    assert song["albumId"] == album["id"] and song["artistId"]
    genres = [g["value"] for g in sonic.getGenres()["genres"]["genre"]]
    assert genres
    assert sonic.getSongsByGenre(genres[0], count=100)["songsByGenre"]["song"]

    # Lists of every type.
    for kind, extra in [("random", {}), ("newest", {}), ("highest", {}), ("frequent", {}), ("recent", {}),
                        ("alphabeticalByName", {}), ("alphabeticalByArtist", {}), ("starred", {}),
                        ("byYear", {"fromYear": 1900, "toYear": 2100}), ("byGenre", {"genre": genres[0]})]:
        found = sonic.getAlbumList2(kind, size=50, **extra)["albumList2"]["album"]
        folders = sonic.getAlbumList(kind, size=50, **extra)["albumList"]["album"]
        if kind not in ("highest", "frequent", "recent", "starred"):  # per-user lists, still empty here
            assert found and folders, kind
    assert len(sonic.getRandomSongs(size=5)["randomSongs"]["song"]) == 5

    # Search, with the empty query clients use to sync everything.
    everything = sonic.search3("", artistCount=500, albumCount=500, songCount=500)["searchResult3"]
    assert len(everything["song"]) == 30
    word = song["title"].split()[0]
    assert song["id"] in [s["id"] for s in sonic.search3(word)["searchResult3"].get("song", [])]
    assert sonic.search2(word)["searchResult2"]

    # Media: the original file, with ranges; cover art, resized.
    streamed = sonic.stream(song["id"], maxBitRate=128, tformat="raw").read()  # raw: always the original
    assert streamed == sonic.download(song["id"]).read() and len(streamed) == song["size"]
    image = sonic.getCoverArt(album["coverArt"], size=64)
    assert image.headers["Content-Type"].startswith("image/")

    # Lyrics.
    lyric_song = next(s for s in everything["song"] if s["title"] == "Engine")
    lyrics = sonic.getLyrics(artist=lyric_song["artist"], title="Engine")["lyrics"]
    assert lyrics["value"].startswith("solar")

    # Stars, ratings, scrobbles, now playing.
    sonic.star(sids=[song["id"]], albumIds=[album["id"]], artistIds=[artist_id])
    starred = sonic.getStarred2()["starred2"]
    assert [s["id"] for s in starred["song"]] == [song["id"]] and [a["id"] for a in starred["album"]] == [album["id"]]
    assert sonic.getStarred()["starred"]["artist"][0]["id"] == artist_id
    sonic.unstar(sids=[song["id"]], albumIds=[album["id"]], artistIds=[artist_id])
    assert sonic.getStarred2()["starred2"]["song"] == []
    sonic.setRating(song["id"], 4)
    assert sonic.getSong(song["id"])["song"]["userRating"] == 4
    sonic.setRating(song["id"], 0)
    before = sonic.getSong(song["id"])["song"]["playCount"]
    sonic.scrobble(song["id"], submission=True, listenTime=time.time() - 30)
    assert sonic.getSong(song["id"])["song"]["playCount"] == before + 1
    sonic.scrobble(song["id"], submission=False)
    playing = sonic.getNowPlaying()["nowPlaying"]["entry"]
    assert any(e["id"] == song["id"] and e["username"] == "alice" for e in playing)

    # Playlists.
    made = sonic.createPlaylist(name="Live", songIds=[s["id"] for s in album["song"][:3]])["playlist"]
    sonic.updatePlaylist(made["id"], name="Live 2", songIdsToAdd=[song["id"]], songIndexesToRemove=[0])
    got = sonic.getPlaylist(made["id"])["playlist"]
    assert got["name"] == "Live 2" and [e["id"] for e in got["entry"]] == [s["id"] for s in album["song"][1:3]] + [song["id"]]
    assert made["id"] in [p["id"] for p in sonic.getPlaylists()["playlists"]["playlist"]]
    sonic.deletePlaylist(made["id"])
    with pytest.raises(libsonic.errors.DataNotFoundError):
        sonic.getPlaylist(made["id"])

    # Bookmarks and the play queue.
    sonic.createBookmark(song["id"], 61_000, comment="here")
    assert sonic.getBookmarks()["bookmarks"]["bookmark"][0]["position"] == 61_000
    sonic.deleteBookmark(song["id"])
    assert "bookmark" not in sonic.getBookmarks()["bookmarks"] or sonic.getBookmarks()["bookmarks"]["bookmark"] == []
    queue = [s["id"] for s in album["song"][:3]]
    sonic.savePlayQueue(queue, current=queue[1], position=5000)
    saved = sonic.getPlayQueue()["playQueue"]
    assert [e["id"] for e in saved["entry"]] == queue and saved["current"] == queue[1] and saved["position"] == 5000
    assert saved["changedBy"] == "py-sonic"

    # Artist and album info, top and similar songs (song was played above).
    info = sonic.getArtistInfo2(album["artistId"])["artistInfo2"]
    assert info["biography"] == "" and info["smallImageUrl"].endswith("size=128")
    assert sonic.getArtistInfo(album["artistId"])["artistInfo"]["biography"] == ""
    assert sonic.getAlbumInfo2(album["id"])["albumInfo"]["notes"] == ""
    assert sonic.getTopSongs(album["artist"], count=5)["topSongs"]["song"][0]["id"] == song["id"]
    assert sonic.getSimilarSongs2(album["artistId"], count=5)["similarSongs2"]["song"]
    assert sonic.getSimilarSongs(song["id"], count=5)["similarSongs"]["song"]

    # Shares: made, visited without an account (page and audio), changed, deleted.
    share = sonic.createShare([song["id"]], description="From py-sonic", expires=time.time() + 3600)["shares"]["share"][0]
    assert [e["id"] for e in share["entry"]] == [song["id"]] and share["username"] == "alice"
    with urllib.request.urlopen(share["url"], timeout=15) as page:
        assert b"From py-sonic" in page.read()
    with urllib.request.urlopen(f"{share['url']}/stream/{song['id'].removeprefix('tr-')}", timeout=15) as audio:
        assert audio.read() == streamed
    sonic.updateShare(share["id"], description="Changed")
    (listed,) = sonic.getShares()["shares"]["share"]
    assert listed["description"] == "Changed" and listed["visitCount"] == 1
    sonic.deleteShare(share["id"])
    assert sonic.getShares()["shares"].get("share", []) == []

    # Radio, users, avatar.
    sonic.createInternetRadioStation("https://radio.example.org/a.mp3", "A FM")
    (station,) = sonic.getInternetRadioStations()["internetRadioStations"]["internetRadioStation"]
    sonic.updateInternetRadioStation(station["id"], "https://radio.example.org/b.mp3", "B FM")
    assert sonic.getInternetRadioStations()["internetRadioStations"]["internetRadioStation"][0]["name"] == "B FM"
    sonic.deleteInternetRadioStation(station["id"])
    assert [u["username"] for u in sonic.getUsers()["users"]["user"]] == ["alice", "bob"]
    assert sonic.getAvatar("alice").read()[:4] == b"\x89PNG"


def test_errors_through_py_sonic(server):
    sonic = connect(server)
    with pytest.raises(libsonic.errors.DataNotFoundError):
        sonic.getSong("tr-999999")
    with pytest.raises(libsonic.errors.ParameterError):
        sonic.getAlbumList2("byYear")
    wrong = libsonic.Connection("http://127.0.0.1", "alice", "login-password-alice", port=server.port)
    with pytest.raises(libsonic.errors.CredentialError):
        wrong.getLicense()
    bob = connect(server, user="bob")
    with pytest.raises(libsonic.errors.AuthError):
        bob.startScan()
    private = sonic.createPlaylist(name="Alice only")["playlist"]["id"]
    with pytest.raises(libsonic.errors.DataNotFoundError):
        bob.getPlaylist(private)
    sonic.deletePlaylist(private)


XML_METHODS = [
    ("ping", {}, None),
    ("getLicense", {}, "license"),
    ("getOpenSubsonicExtensions", {}, "openSubsonicExtensions"),
    ("getUser", {"username": "alice"}, "user"),
    ("getMusicFolders", {}, "musicFolders"),
    ("getScanStatus", {}, "scanStatus"),
    ("getIndexes", {}, "indexes"),
    ("getArtists", {}, "artists"),
    ("getGenres", {}, "genres"),
    ("getAlbumList", {"type": "newest"}, "albumList"),
    ("getAlbumList2", {"type": "alphabeticalByArtist"}, "albumList2"),
    ("getRandomSongs", {"size": 3}, "randomSongs"),
    ("search2", {"query": ""}, "searchResult2"),
    ("search3", {"query": ""}, "searchResult3"),
    ("getStarred", {}, "starred"),
    ("getStarred2", {}, "starred2"),
    ("getNowPlaying", {}, "nowPlaying"),
    ("getPlaylists", {}, "playlists"),
    ("getBookmarks", {}, "bookmarks"),
]


def test_the_same_methods_in_xml(server):
    for method, params, element in XML_METHODS:
        root = xml_call(server, method, **params)
        assert root.get("status") == "ok" and root.get("openSubsonic") == "true", (method, ET.tostring(root)[:300])
        if element:
            assert root.find(NS + element) is not None, method
    album = xml_call(server, "getAlbumList2", type="alphabeticalByName", size=1).find(f"{NS}albumList2/{NS}album")
    full = xml_call(server, "getAlbum", id=album.get("id")).find(NS + "album")
    song = full.find(NS + "song")
    assert song.get("isDir") == "false" and int(song.get("duration")) >= 0 and song.get("id").startswith("tr-")
    assert xml_call(server, "getSong", id=song.get("id")).find(NS + "song").get("title") == song.get("title")
    artist = xml_call(server, "getArtist", id=full.get("artistId")).find(NS + "artist")
    assert artist.get("id") == full.get("artistId")
    directory = xml_call(server, "getMusicDirectory", id=full.get("id")).find(NS + "directory")
    assert len(directory.findall(NS + "child")) == int(full.get("songCount"))
    lyrics = xml_call(server, "getLyricsBySongId", id=song.get("id")).find(NS + "lyricsList")
    assert lyrics is not None
    xml_call(server, "savePlayQueue", id=song.get("id"), position=1000)
    queue = xml_call(server, "getPlayQueue").find(NS + "playQueue")
    assert queue.get("current") == song.get("id") and queue.get("changedBy") == "xml-test"
    failed = xml_call(server, "getAlbum", id="al-999999")
    assert failed.get("status") == "failed" and failed.find(NS + "error").get("code") == "70"


def test_form_post_with_api_key_and_unknown_methods(server):
    """A form POST with an OpenSubsonic API key; an unknown method still gets the envelope."""
    out = server.manage("subsonic_password", "bob", "--api-key").strip().splitlines()
    server.bob_password = out[0]
    key = out[1].removeprefix("apiKey=")
    body = urllib.parse.urlencode({"apiKey": key, "f": "json", "v": "1.16.1", "c": "form"}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/rest/getUser", data=body, timeout=15) as response:
        assert json.loads(response.read())["subsonic-response"]["user"]["username"] == "bob"
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/rest/noSuchThing.view?f=json", timeout=15) as response:
        assert response.status == 200
        error = json.loads(response.read())["subsonic-response"]
    assert error["status"] == "failed" and error["error"]["code"] == 70
