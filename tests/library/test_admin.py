"""The library admin: libraries with "Scan now" (``orchestrator.admin``), scan runs, the
read-only catalogue, cover images, Subsonic credentials (listed and revocable, secrets never
shown).

The scan service and the cover files are replaced by stand-ins.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

import library.admin
import orchestrator.admin
from common.errors import Conflict
from library.models import Artist, Library, ScanRun, SubsonicCredential

from . import factories as f

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture
def scan_service(monkeypatch):
    calls = []

    def scan_request(library, *, trigger, user):
        if library.name == "Busy":
            raise Conflict("A scan of this library is already running.")
        calls.append((library.name, trigger, user.username))

    monkeypatch.setattr(orchestrator.admin, "scan_request", scan_request)
    return calls


@pytest.fixture
def covers(monkeypatch, tmp_path):
    """``library.covers.cover_path`` -> files under tmp_path named by the hash."""
    monkeypatch.setattr(library.admin, "cover_path", lambda cover: Path(tmp_path) / cover.sha256)
    return tmp_path


def get(client, url, **params):
    response = client.get(url, params, **HOST)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


class TestLibraries:
    def test_list_shows_last_scan_status_and_time(self, admin_client):
        music = f.library("Music")
        f.library("Audiobooks")
        f.scan_run(music, status=ScanRun.FAILED)
        f.scan_run(music, status=ScanRun.COMPLETED)
        page = get(admin_client, "/admin/library/library/")
        assert "Audiobooks" in page and "never" in page
        assert "completed" in page and "failed" not in page

    def test_root_must_be_an_existing_absolute_folder(self, admin_client, tmp_path):
        form = {"name": "Music", "enabled": "on", "scan_interval": 60}
        for root, problem in (("relative/path", "absolute path"), (str(tmp_path / "missing"), "No folder")):
            response = admin_client.post("/admin/library/library/add/", {**form, "root": root}, **HOST)
            assert response.status_code == 200 and problem in response.content.decode()
        response = admin_client.post("/admin/library/library/add/", {**form, "root": f"{tmp_path}/./"}, **HOST)
        assert response.status_code == 302
        assert Library.objects.get(name="Music").root == str(tmp_path)

    def test_scan_now_requests_a_manual_scan_per_library(self, admin_client, scan_service):
        music, busy = f.library("Music"), f.library("Busy")
        response = admin_client.post(
            "/admin/library/library/",
            {"action": "scan_now", "_selected_action": [music.pk, busy.pk]},
            follow=True,
            **HOST,
        )
        page = response.content.decode()
        assert scan_service == [("Music", "manual", "admin")]
        assert "Scan requested: Music." in page
        assert "already running" in page


class TestScanRuns:
    def test_errors_are_listed_readably_and_escaped(self, admin_client):
        run = f.scan_run(
            f.library(),
            status=ScanRun.COMPLETED,
            error_count=3,
            errors=[{"path": "a/bad.mp3", "error": "not an MP3 <script>"}, {"path": "b/x.flac", "error": "truncated"}],
        )
        page = get(admin_client, f"/admin/library/scanrun/{run.pk}/change/")
        assert "<td><code>a/bad.mp3</code></td><td>not an MP3 &lt;script&gt;</td>" in page
        assert "and 1 more not kept" in page
        assert '"path"' not in page  # not the raw JSON

    def test_read_only_with_filters(self, admin_client):
        run = f.scan_run(f.library(), status=ScanRun.RUNNING)
        assert "running" in get(admin_client, "/admin/library/scanrun/", status__exact="running")
        assert get(admin_client, "/admin/library/scanrun/", library__id__exact=run.library_id)
        assert admin_client.get("/admin/library/scanrun/add/", **HOST).status_code == 403
        response = admin_client.post(f"/admin/library/scanrun/{run.pk}/change/", {"status": "failed"}, **HOST)
        assert response.status_code == 403
        run.refresh_from_db()
        assert run.status == ScanRun.RUNNING


class TestCatalogue:
    @pytest.fixture
    def data(self):
        main, other = f.library("Main"), f.library("Other")
        cover = f.cover("red")
        album = f.album("Homogenic", "Björk", year=1997, genres=["Electronic"], cover=cover)
        mix = f.album("Mixtape", "Various Artists", compilation=True)
        track = f.track("Jóga", album, number=1, lib=main, genres=["Electronic"], format="flac")
        f.track("Hidden", mix, lib=other)
        return {"album": album, "track": track, "cover": cover, "main": main, "other": other}

    def test_album_list_filters_search_and_thumbnails(self, admin_client, data):
        image = reverse("admin:library_coverart_image", args=[data["cover"].pk])
        page = get(admin_client, "/admin/library/album/")
        assert f'src="{image}"' in page and "Mixtape" in page
        assert "Mixtape" not in get(admin_client, "/admin/library/album/", library=data["main"].pk)
        assert "Homogenic" not in get(admin_client, "/admin/library/album/", compilation__exact="1")
        assert "Mixtape" not in get(admin_client, "/admin/library/album/", year=1997)
        assert "Mixtape" not in get(admin_client, "/admin/library/album/", genres__id__exact=f.genre("Electronic").pk)
        assert "Mixtape" not in get(admin_client, "/admin/library/album/", q="björk")
        assert get(admin_client, "/admin/library/album/", library="nonsense")

    def test_track_list_filters_and_cover_from_album(self, admin_client, data):
        image = reverse("admin:library_coverart_image", args=[data["cover"].pk])
        page = get(admin_client, "/admin/library/track/")
        assert "Jóga" in page and "Hidden" in page and f'src="{image}"' in page
        assert "Hidden" not in get(admin_client, "/admin/library/track/", format="flac")
        assert "Jóga" not in get(admin_client, "/admin/library/track/", library__id__exact=data["other"].pk)
        assert "Jóga" not in get(admin_client, "/admin/library/track/", album__compilation__exact="1")
        assert "Hidden" not in get(admin_client, "/admin/library/track/", genres__id__exact=f.genre("Electronic").pk)
        assert "Hidden" not in get(admin_client, "/admin/library/track/", q="joga")

    def test_change_pages_show_the_cover_and_are_read_only(self, admin_client, data):
        image = reverse("admin:library_coverart_image", args=[data["cover"].pk])
        for url in (
            f"/admin/library/album/{data['album'].pk}/change/",
            f"/admin/library/track/{data['track'].pk}/change/",
            f"/admin/library/coverart/{data['cover'].pk}/change/",
        ):
            assert f'src="{image}"' in get(admin_client, url)
        for model in ("artist", "album", "track", "genre", "coverart"):
            get(admin_client, f"/admin/library/{model}/")
            assert admin_client.get(f"/admin/library/{model}/add/", **HOST).status_code == 403
        artist = Artist.objects.get(name="Björk")
        admin_client.post(f"/admin/library/artist/{artist.pk}/change/", {"name": "Changed"}, **HOST)
        assert Artist.objects.filter(name="Björk").exists()

    def test_genre_and_artist_counts(self, admin_client, data):
        assert "Electronic" in get(admin_client, "/admin/library/genre/")
        assert "Björk" in get(admin_client, "/admin/library/artist/", q="bj")


class TestCoverImage:
    def test_serves_the_file(self, admin_client, covers):
        cover = f.cover("red", mime="image/png")
        (covers / cover.sha256).write_bytes(b"\x89PNG fake")
        response = admin_client.get(reverse("admin:library_coverart_image", args=[cover.pk]), **HOST)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == b"\x89PNG fake"
        assert "sandbox" in response["Content-Security-Policy"]

    def test_404_when_the_row_or_the_file_is_missing(self, admin_client, covers):
        cover = f.cover("gone")
        assert admin_client.get(reverse("admin:library_coverart_image", args=[cover.pk]), **HOST).status_code == 404
        assert admin_client.get(reverse("admin:library_coverart_image", args=[999_999]), **HOST).status_code == 404

    def test_a_non_image_type_is_a_download(self, admin_client, covers):
        cover = f.cover("html", mime="text/html")
        (covers / cover.sha256).write_bytes(b"<script>alert(1)</script>")
        response = admin_client.get(reverse("admin:library_coverart_image", args=[cover.pk]), **HOST)
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")

    def test_admins_only(self, client, make_user, covers):
        cover = f.cover("red")
        (covers / cover.sha256).write_bytes(b"img")
        url = reverse("admin:library_coverart_image", args=[cover.pk])
        assert client.get(url, **HOST).status_code == 302  # to the login page
        client.force_login(make_user("bob"))
        assert client.get(url, **HOST).status_code == 302


class TestSubsonicCredentials:
    URL = "/admin/library/subsoniccredential/"

    @pytest.fixture
    def bob(self, make_user):
        """Bob with a Subsonic password and API key; returns (user, credential, secrets to hide)."""
        from bridge.subsonic import credentials

        user = make_user("bob")
        password = credentials.password_reset(user)
        key = credentials.api_key_reset(user)
        SubsonicCredential.objects.filter(user=user).update(api_key_hint="HiNtQx7")  # unmistakable in a page
        credential = SubsonicCredential.objects.get(user=user)
        hidden = [password, key, credential.password_encrypted, credential.password_encrypted.removeprefix("fernet:"),
                  credential.api_key_hash, "HiNtQx7"]
        return user, credential, hidden

    def test_list_and_view_show_the_user_and_times_never_the_secrets(self, admin_client, bob, make_user):
        user, credential, hidden = bob
        make_user("carol")
        SubsonicCredential.objects.create(user=make_user("dave"))  # no password, no API key
        page = get(admin_client, self.URL)
        assert "bob" in page and "dave" in page and "carol" not in page
        assert "last used" in page.lower() and "updated" in page.lower()
        detail = get(admin_client, f"{self.URL}{credential.pk}/change/")
        assert "bob" in detail
        for text in (page, detail):
            assert not [secret for secret in hidden if secret in text]
            assert "password_encrypted" not in text and "api_key_hash" not in text and "api_key_hint" not in text

    def test_search_by_username(self, admin_client, bob, make_user):
        SubsonicCredential.objects.create(user=make_user("dave"))
        page = get(admin_client, self.URL, q="BO")
        assert "bob" in page and "dave" not in page

    def test_no_adding_and_no_editing(self, admin_client, bob):
        user, credential, _ = bob
        assert admin_client.get(f"{self.URL}add/", **HOST).status_code == 403
        assert admin_client.post(f"{self.URL}add/", {"user": user.pk}, **HOST).status_code == 403
        response = admin_client.post(
            f"{self.URL}{credential.pk}/change/", {"password_encrypted": "fernet:changed", "api_key_hint": "x"}, **HOST
        )
        assert response.status_code == 403
        fresh = SubsonicCredential.objects.get(pk=credential.pk)
        assert (fresh.password_encrypted, fresh.api_key_hash) == (credential.password_encrypted, credential.api_key_hash)

    def test_delete_revokes_the_credential_and_keeps_the_user(self, admin_client, bob):
        from bridge.subsonic import credentials

        user, credential, hidden = bob
        confirm = get(admin_client, f"{self.URL}{credential.pk}/delete/")
        assert not [secret for secret in hidden if secret in confirm]
        response = admin_client.post(f"{self.URL}{credential.pk}/delete/", {"post": "yes"}, **HOST)
        assert response.status_code == 302
        assert not SubsonicCredential.objects.exists()
        user.refresh_from_db()  # the account itself stays
        assert credentials.show(user)["password"] is None

    def test_staff_without_permissions_cannot_see_them(self, client, make_user, bob):
        client.force_login(make_user("staff", staff=True))
        assert client.get(self.URL, **HOST).status_code == 403
