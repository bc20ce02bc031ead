"""REST libraries, scan requests and scan runs: staff only, through the orchestrator's services."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from library.models import Library, ScanRun, Track
from tests.library import factories as f

from .conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "music"
    path.mkdir()
    return path


@pytest.fixture
def lib(folder):
    return f.library("Music", root=str(folder))


STAFF_REQUESTS = [
    ("get", "/api/v1/libraries/", None),
    ("post", "/api/v1/libraries/", {"name": "X", "root": "/tmp"}),
    ("get", "/api/v1/libraries/{lib}/", None),
    ("patch", "/api/v1/libraries/{lib}/", {"enabled": False}),
    ("delete", "/api/v1/libraries/{lib}/", None),
    ("post", "/api/v1/libraries/{lib}/scan/", {}),
    ("get", "/api/v1/scans/", None),
    ("get", "/api/v1/scans/{scan}/", None),
]


@pytest.mark.parametrize("method, url, body", STAFF_REQUESTS)
def test_libraries_and_scans_are_staff_only(anon, as_alice, lib, method, url, body):
    scan = f.scan_run(lib)
    url = url.format(lib=lib.pk, scan=scan.pk)
    assert_error(getattr(anon, method)(url, body, format="json"), 401, "unauthenticated")
    error = assert_error(getattr(as_alice, method)(url, body, format="json"), 403, "forbidden")
    assert "staff" in error["message"]
    assert Library.objects.filter(pk=lib.pk, enabled=True).exists()  # nothing changed
    assert ScanRun.objects.count() == 1


def test_list_libraries(as_admin, lib, catalogue):
    f.scan_run(lib, status=ScanRun.COMPLETED)
    body = as_admin.get("/api/v1/libraries/").json()
    assert [row["name"] for row in body] == ["Main", "Music", "Other"]
    music = next(row for row in body if row["name"] == "Music")
    assert music["root"] == lib.root and music["enabled"] and music["scan_interval"] == 60
    assert music["last_scan"]["status"] == "completed" and music["scanning"] is False
    main = next(row for row in body if row["name"] == "Main")
    assert main["tracks"] == 4 and main["last_scan"] is None


def test_create_a_library(as_admin, folder):
    response = as_admin.post("/api/v1/libraries/", {"name": "Records", "root": str(folder), "scan_interval": 0}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["root"], body["scan_interval"], body["enabled"], body["tracks"]) == (
        "Records", str(folder), 0, True, 0)
    assert Library.objects.get(pk=body["id"]).name == "Records"
    assert as_admin.get(f"/api/v1/libraries/{body['id']}/").json() == body


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"name": "A", "root": "relative/path"}, 400, "invalid_payload"),
        ({"name": "A", "root": "/no/such/folder/anywhere"}, 400, "invalid_payload"),
        ({"name": "A"}, 400, "invalid_payload"),
        ({"root": "/tmp"}, 400, "invalid_payload"),
        ({"name": "", "root": "/tmp"}, 400, "invalid_payload"),
        ({"name": "A", "root": "{folder}", "scan_interval": -1}, 400, "invalid_payload"),
        ({"name": "A", "root": "{folder}", "enabled": "maybe"}, 400, "invalid_payload"),
        ({"name": "A", "root": "{folder}", "colour": "red"}, 400, "invalid_payload"),
        ({"name": "Music", "root": "{elsewhere}"}, 409, "conflict"),  # the name is taken
        ({"name": "Inner", "root": "{folder}/inner"}, 409, "conflict"),  # inside another library
    ],
)
def test_creating_a_library_validates_name_and_folder(as_admin, lib, folder, tmp_path, body, status, code):
    (folder / "inner").mkdir()
    (tmp_path / "elsewhere").mkdir()
    body = {k: v.format(folder=folder, elsewhere=tmp_path / "elsewhere") if isinstance(v, str) else v for k, v in body.items()}
    assert_error(as_admin.post("/api/v1/libraries/", body, format="json"), status, code)
    assert Library.objects.count() == 1


def test_a_form_encoded_body_is_415(as_admin, folder):
    response = as_admin.post("/api/v1/libraries/", {"name": "A", "root": str(folder)})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "bad_request"


def test_session_writes_need_the_csrf_token(admin, folder):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post("/api/v1/libraries/", {"name": "A", "root": str(folder)}, format="json")
    error = assert_error(response, 403, "forbidden")
    assert "CSRF" in error["message"]
    assert not Library.objects.exists()


def test_update_a_library(as_admin, lib):
    body = as_admin.patch(f"/api/v1/libraries/{lib.pk}/", {"scan_interval": 15, "enabled": False}, format="json").json()
    assert (body["scan_interval"], body["enabled"]) == (15, False)
    lib.refresh_from_db()
    assert (lib.scan_interval, lib.enabled) == (15, False)


@pytest.mark.parametrize("body", [{"name": "Renamed"}, {"root": "/tmp"}, {"scan_interval": -5}, {"enabled": "sometimes"}])
def test_name_and_folder_cannot_change_and_values_are_checked(as_admin, lib, body):
    assert_error(as_admin.patch(f"/api/v1/libraries/{lib.pk}/", body, format="json"), 400, "invalid_payload")
    lib.refresh_from_db()
    assert (lib.name, lib.scan_interval, lib.enabled) == ("Music", 60, True)


def test_remove_a_library_with_its_tracks(as_admin, catalogue):
    other = catalogue.other_library
    response = as_admin.delete(f"/api/v1/libraries/{other.pk}/")
    assert response.status_code == 200
    assert response.json() == {"library": "Other", "tracks": 2}
    assert not Library.objects.filter(pk=other.pk).exists()
    assert Track.objects.count() == 4


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_missing_library_is_404(as_admin, method):
    assert_error(getattr(as_admin, method)("/api/v1/libraries/4242/", {}, format="json"), 404, "not_found")


# -- scans ------------------------------------------------------------------------------------


def test_request_a_scan(as_admin, admin, lib, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = as_admin.post(f"/api/v1/libraries/{lib.pk}/scan/", {"full": True}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    scan = ScanRun.objects.get(pk=body["id"])
    assert (scan.trigger, scan.full, scan.status, scan.requested_by_id) == ("api", True, "queued", admin.pk)
    assert body["library"] == {"id": lib.pk, "name": "Music"}
    assert body["requested_by"] == {"id": admin.pk, "username": "admin"}
    assert (body["status"], body["trigger"], body["full"]) == ("queued", "api", True)
    assert len(queued) == 1  # handed to the orchestrator after commit
    tracker = as_admin.get(f"/api/v1/trackers/{body['tracker']}/").json()
    assert tracker["kind"] == "library.scan"


def test_a_scan_without_a_body_is_not_full(as_admin, lib):
    response = as_admin.post(f"/api/v1/libraries/{lib.pk}/scan/")
    assert response.status_code == 202
    assert response.json()["full"] is False


@pytest.mark.parametrize("body", [{"full": "very"}, {"fast": True}, ["full"]])
def test_bad_scan_requests_are_400(as_admin, lib, body):
    assert_error(as_admin.post(f"/api/v1/libraries/{lib.pk}/scan/", body, format="json"), 400, "invalid_payload")
    assert not ScanRun.objects.exists()


def test_scanning_a_disabled_library_is_409(as_admin, lib):
    lib.enabled = False
    lib.save()
    assert_error(as_admin.post(f"/api/v1/libraries/{lib.pk}/scan/", {}, format="json"), 409, "conflict")


def test_scanning_a_missing_library_is_404(as_admin):
    assert_error(as_admin.post("/api/v1/libraries/4242/scan/", {}, format="json"), 404, "not_found")


def test_scan_runs_newest_first_with_counts_and_errors(as_admin, lib, catalogue):
    old = f.scan_run(lib, status=ScanRun.COMPLETED, files_seen=10, added=9, error_count=1,
                     errors=[{"path": "bad.mp3", "error": "not audio"}])
    many = [{"path": f"{n}.mp3", "error": "truncated"} for n in range(30)]
    new = f.scan_run(catalogue.library, status=ScanRun.FAILED, error_count=30, errors=many, message="disk gone")
    page = as_admin.get("/api/v1/scans/").json()
    assert (page["total"], page["offset"], page["limit"]) == (2, 0, 50)
    assert [row["id"] for row in page["items"]] == [new.pk, old.pk]
    first = page["items"][0]
    assert (first["status"], first["error_count"], first["message"]) == ("failed", 30, "disk gone")
    assert len(first["errors"]) == 20  # the list shows the first errors; the detail all of them
    assert len(as_admin.get(f"/api/v1/scans/{new.pk}/").json()["errors"]) == 30
    detail = as_admin.get(f"/api/v1/scans/{old.pk}/").json()
    assert (detail["files_seen"], detail["added"], detail["errors"]) == (10, 9, [{"path": "bad.mp3", "error": "not audio"}])


def test_scan_runs_of_one_library_and_paging(as_admin, lib, catalogue):
    for _ in range(3):
        f.scan_run(lib)
    f.scan_run(catalogue.library)
    page = as_admin.get(f"/api/v1/scans/?library={lib.pk}&limit=2&offset=1").json()
    assert (page["total"], len(page["items"])) == (3, 2)
    assert {row["library"]["id"] for row in page["items"]} == {lib.pk}
    error = assert_error(as_admin.get("/api/v1/scans/?library=x"), 400, "invalid_payload")
    assert error["details"][0]["field"] == "library"


def test_a_missing_scan_is_404(as_admin):
    assert_error(as_admin.get("/api/v1/scans/4242/"), 404, "not_found")
