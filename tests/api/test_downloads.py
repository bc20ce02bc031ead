"""Downloads: a track as an attachment, an album or a playlist as a streamed stored zip;
authorised, disabled libraries left out, files outside a library root never read."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from django.test import Client

from library.models import Library
from library.sample import make_sample_library
from library.userdata import playlists
from tests.asgi_client import through_asgi
from tests.library import factories as f

from .conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


@pytest.fixture
def music(tmp_path):
    """Four real sample files on one album (Łódź Ensemble - Nights), a fifth in a disabled library."""
    root, hidden_root = tmp_path / "music", tmp_path / "hidden"
    summary = make_sample_library(root, count=4, seed=3, formats=["flac", "mp3"])
    hidden_summary = make_sample_library(hidden_root, count=1, seed=4, formats=["mp3"])
    lib = f.library("Music", root=str(root))
    hidden = f.library("Hidden", root=str(hidden_root), enabled=False)
    album = f.album("Nights", f.artist("Łódź Ensemble"))
    tracks = []
    for number, sample in enumerate(summary.tracks, 1):
        tracks.append(f.track(f"Song/{number}", album, lib=lib, number=number, path=sample.path,
                              format=os.path.splitext(sample.path)[1][1:]))
    secret = f.track("Secret", album, lib=hidden, number=9, path=hidden_summary.tracks[0].path, format="mp3")
    return {"root": root, "album": album, "tracks": tracks, "secret": secret, "library": lib}


@pytest.fixture
def http(transport):
    def make(user=None):
        client = Client(HTTP_HOST="127.0.0.1")
        if transport == "asgi":
            through_asgi(client)
        if user is not None:
            client.force_login(user)
        return client

    return make


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_track_is_its_file_as_an_attachment(music, http, alice):
    track = music["tracks"][0]
    response = http(alice).get(f"/api/v1/tracks/{track.pk}/download")
    assert response.status_code == 200
    assert body(response) == (music["root"] / track.path).read_bytes()
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "Song_1" in disposition  # "/" never reaches a file name
    assert "filename*=UTF-8''%C5%81%C3%B3d%C5%BA%20Ensemble" in disposition


def test_an_album_is_a_stored_zip_of_its_playable_files_in_order(music, http, alice):
    response = http(alice).get(f"/api/v1/albums/{music['album'].pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "Nights.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    infos = archive.infolist()
    assert [i.filename.rsplit(".", 1)[0] for i in infos] == [
        f"Łódź Ensemble - Nights/{n:02d} - Song_{n}" for n in range(1, 5)]  # the disabled library's track left out
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    for info, track in zip(infos, music["tracks"]):
        assert archive.read(info) == (music["root"] / track.path).read_bytes()


def test_a_missing_file_is_left_out_and_a_path_outside_the_root_never_read(music, http, alice, tmp_path):
    first, second = music["tracks"][:2]
    (music["root"] / first.path).unlink()
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"not yours")
    second.path = "../outside.mp3"
    second.save()
    archive = zipfile.ZipFile(io.BytesIO(body(http(alice).get(f"/api/v1/albums/{music['album'].pk}/download"))))
    assert len(archive.infolist()) == 2
    assert all(archive.read(i) != b"not yours" for i in archive.infolist())
    assert http(alice).get(f"/api/v1/tracks/{second.pk}/download").status_code == 403


def test_a_playlist_its_owner_or_anyone_when_public(music, http, alice, bob):
    a, b, c = music["tracks"][:3]
    Library.objects.filter(name="Hidden").update(enabled=True)  # added while its library was enabled
    mine = playlists.playlist_create(alice, "Late / night", track_ids=[c.pk, a.pk, music["secret"].pk, a.pk])
    Library.objects.filter(name="Hidden").update(enabled=False)
    response = http(alice).get(f"/api/v1/playlists/{mine['id']}/download")
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    names = [i.filename for i in archive.infolist()]
    assert [n.split(" - ")[0] for n in names] == ["Late _ night/01", "Late _ night/02", "Late _ night/03"]
    assert names[1] != names[2]  # the same track twice: two entries, two names
    assert archive.read(names[0]) == (music["root"] / c.path).read_bytes()
    assert_error(http(bob).get(f"/api/v1/playlists/{mine['id']}/download"), 404, "not_found")
    playlists.playlist_update(alice, mine["id"], public=True)
    assert http(bob).get(f"/api/v1/playlists/{mine['id']}/download").status_code == 200


def test_anonymous_and_disabled_are_refused(music, http, alice):
    for url in (f"/api/v1/tracks/{music['tracks'][0].pk}/download", f"/api/v1/albums/{music['album'].pk}/download"):
        assert_error(http().get(url), 401, "unauthenticated")
    assert_error(http(alice).get(f"/api/v1/tracks/{music['secret'].pk}/download"), 404, "not_found")
    Library.objects.filter(pk=music["library"].pk).update(enabled=False)
    assert_error(http(alice).get(f"/api/v1/albums/{music['album'].pk}/download"), 404, "not_found")
