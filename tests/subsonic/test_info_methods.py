"""Artist and album info, top songs and similar songs, from this catalogue only: similar
artists by shared genres and by the people who play both (``library.similar``)."""
from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from library import similar

from . import helpers as h
from .conftest import Subsonic
from .schema import validate_xml as validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(subsonic_user):
    """Rock: Alpha and Beta share genres; Gamma plays jazz but Alpha's listeners play it; Delta
    has nothing in common with Alpha."""
    from library.models import Play
    from tests.library import factories as f

    lib = f.library()
    cover = f.cover("alpha")
    alpha = f.album("Alpha One", by="Alpha", cover=cover, musicbrainz_id="11111111-2222-3333-4444-555555555555",
                    genres=["Rock", "Indie"])
    beta = f.album("Beta One", by="Beta", genres=["Rock"])
    gamma = f.album("Gamma One", by="Gamma", genres=["Jazz"])
    delta = f.album("Delta One", by="Delta", genres=["Polka"])
    tracks = {
        "alpha": [f.track(f"A{n}", alpha, number=n, lib=lib, genres=["Rock", "Indie"]) for n in range(1, 5)],
        "beta": [f.track(f"B{n}", beta, number=n, lib=lib, genres=["Rock"]) for n in range(1, 4)],
        "gamma": [f.track(f"G{n}", gamma, number=n, lib=lib, genres=["Jazz"]) for n in range(1, 4)],
        "delta": [f.track(f"D{n}", delta, number=n, lib=lib, genres=["Polka"]) for n in range(1, 3)],
    }
    f.artist("Alpha").__class__.objects.filter(name="Alpha").update(musicbrainz_id="aaaaaaaa-0000-0000-0000-000000000001")
    user, password = subsonic_user("alice")
    other, _ = subsonic_user("bob")
    now = timezone.now()
    # alice and bob play Alpha and Gamma; alpha's third track is the most played.
    for who in (user, other):
        for track, times in ((tracks["alpha"][2], 3), (tracks["alpha"][0], 1), (tracks["gamma"][0], 1)):
            for i in range(times):
                Play.objects.create(user=who, track=track, played_at=now - datetime.timedelta(minutes=i))
    client = Subsonic("alice", password)
    return {"client": client, "tracks": tracks, "artists": {a.title.split()[0].lower(): a.album_artist_id
                                                             for a in (alpha, beta, gamma, delta)},
            "albums": {"alpha": alpha.pk}, "cover": cover.pk}


def xml_ok(client: Subsonic, method: str, **params) -> ET.Element:
    response = client.raw(method, **params)
    validate(response.content)
    root = ET.fromstring(response.content)
    assert root.get("status") == "ok", response.content
    return root


def test_similar_artists_by_genres_and_listeners(world):
    artists = world["artists"]
    ranked = similar.similar_artists(artists["alpha"])
    by_id = dict(ranked)
    # Beta shares one of Alpha's two genres; Gamma both of Alpha's listeners; Delta nothing.
    assert by_id == {artists["beta"]: 0.5, artists["gamma"]: 1.0}
    assert [pk for pk, _ in ranked] == [artists["gamma"], artists["beta"]]
    assert similar.similar_artists(artists["delta"]) == []


def test_artist_info_in_json_and_xml(world):
    client, artists = world["client"], world["artists"]
    for method, key in (("getArtistInfo", "artistInfo"), ("getArtistInfo2", "artistInfo2")):
        info = client.ok(method, id=f"ar-{artists['alpha']}")[key]
        assert info["biography"] == "" and info["musicBrainzId"] == "aaaaaaaa-0000-0000-0000-000000000001"
        for field, size in (("smallImageUrl", 128), ("mediumImageUrl", 512), ("largeImageUrl", 1200)):
            assert info[field] == f"http://127.0.0.1/rest/getCoverArt.view?id=ar-{artists['alpha']}&size={size}"
        assert [a["id"] for a in info["similarArtist"]] == [f"ar-{artists['gamma']}", f"ar-{artists['beta']}"]
        root = xml_ok(client, method, id=f"ar-{artists['alpha']}")
        element = root.find(h.NS + key)
        assert element.find(h.NS + "biography").text is None
        assert element.find(h.NS + "largeImageUrl").text == info["largeImageUrl"]
        assert [a.get("id") for a in element.findall(h.NS + "similarArtist")] == [a["id"] for a in info["similarArtist"]]
    # An album or a song names its album artist; count limits the similar artists.
    info = client.ok("getArtistInfo", id=f"tr-{world['tracks']['alpha'][0].pk}", count=1)["artistInfo"]
    assert [a["id"] for a in info["similarArtist"]] == [f"ar-{artists['gamma']}"]
    # An artist without cover art has no image URLs.
    assert "smallImageUrl" not in client.ok("getArtistInfo2", id=f"ar-{artists['delta']}")["artistInfo2"]
    assert client.json("getArtistInfo2", id="ar-999999")["error"]["code"] == 70


def test_album_info(world):
    client, album = world["client"], world["albums"]["alpha"]
    for method in ("getAlbumInfo", "getAlbumInfo2"):
        info = client.ok(method, id=f"al-{album}")["albumInfo"]
        assert info["notes"] == "" and info["musicBrainzId"] == "11111111-2222-3333-4444-555555555555"
        assert info["mediumImageUrl"].endswith(f"id=co-{world['cover']}&size=512")
        xml_ok(client, method, id=f"al-{album}")
    assert client.json("getAlbumInfo", id="al-999999")["error"]["code"] == 70


def test_top_songs_are_the_most_played_on_the_server(world):
    client, alpha = world["client"], world["tracks"]["alpha"]
    songs = client.ok("getTopSongs", artist="alpha", count=3)["topSongs"]["song"]
    assert [s["id"] for s in songs] == [f"tr-{alpha[2].pk}", f"tr-{alpha[0].pk}", f"tr-{alpha[1].pk}"]
    h.check_all(songs, h.SONG, "topSongs.song")
    assert songs[0]["playCount"] == 3  # alice's own plays, as everywhere
    xml_ok(client, "getTopSongs", artist="Alpha")
    assert client.ok("getTopSongs", artist="Nobody")["topSongs"] == {"song": []}


def test_similar_songs_come_from_the_artist_and_similar_ones(world):
    client, tracks = world["client"], world["tracks"]
    allowed = {f"tr-{t.pk}" for name in ("alpha", "beta", "gamma") for t in tracks[name]}
    for method, key in (("getSimilarSongs", "similarSongs"), ("getSimilarSongs2", "similarSongs2")):
        songs = client.ok(method, id=f"ar-{world['artists']['alpha']}", count=8)[key]["song"]
        ids = [s["id"] for s in songs]
        assert len(ids) == 8 == len(set(ids)) and set(ids) <= allowed
        assert set(ids) - {f"tr-{t.pk}" for t in tracks["alpha"]}  # not only the artist's own
        xml_ok(client, method, id=f"al-{world['albums']['alpha']}", count=3)
    # Delta resembles nobody: only its own songs.
    delta = client.ok("getSimilarSongs2", id=f"ar-{world['artists']['delta']}")["similarSongs2"]["song"]
    assert {s["id"] for s in delta} == {f"tr-{t.pk}" for t in tracks["delta"]}
