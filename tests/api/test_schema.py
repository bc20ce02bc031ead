"""The OpenAPI schema: it validates, it documents every endpoint, and the API keeps to it.

The property-based run (schemathesis, in-process through Django's WSGI application, as a
staff user with a token, over a small catalogue with cover art) sends up to
``SCHEMATHESIS_EXAMPLES`` (default 20) generated requests, valid and invalid, to each of
this API's operations and fails on any server error, undocumented status code or content
type, or response body that breaks the schema. It is derandomized, so CI runs are
reproducible; raise the examples locally to search harder.
"""
from __future__ import annotations

import os

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from library.covers import store_cover
from tests.library import factories as f

from .conftest import image_bytes

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/artists/"), ("get", "/api/v1/artists/{artist_id}/"),
    ("get", "/api/v1/albums/"), ("get", "/api/v1/albums/{album_id}/"), ("get", "/api/v1/albums/{album_id}/cover"),
    ("get", "/api/v1/tracks/"), ("get", "/api/v1/tracks/{track_id}/"), ("get", "/api/v1/tracks/{track_id}/cover"),
    ("get", "/api/v1/tracks/{track_id}/stream"), ("get", "/api/v1/covers/{cover_id}"),
    ("get", "/api/v1/genres/"), ("get", "/api/v1/search/"),
    ("get", "/api/v1/libraries/"), ("post", "/api/v1/libraries/"),
    ("get", "/api/v1/libraries/{library_id}/"), ("patch", "/api/v1/libraries/{library_id}/"),
    ("delete", "/api/v1/libraries/{library_id}/"), ("post", "/api/v1/libraries/{library_id}/scan/"),
    ("get", "/api/v1/scans/"), ("get", "/api/v1/scans/{scan_id}/"),
    ("get", "/api/v1/trackers/"), ("get", "/api/v1/trackers/{tracker_id}/"),
    ("post", "/api/v1/trackers/{tracker_id}/actions/"),
    ("post", "/api/v1/auth/token/"),
}


@pytest.fixture
def openapi(as_alice) -> dict:
    response = as_alice.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_the_schema_documents_every_endpoint_and_its_errors(openapi):
    found = {(method, path) for path, item in openapi["paths"].items() for method in item if method != "parameters"}
    assert OPERATIONS <= found
    for method, path in OPERATIONS - {("post", "/api/v1/auth/token/")}:
        responses = openapi["paths"][path][method]["responses"]
        assert responses["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert openapi["components"]["securitySchemes"].keys() >= {"tokenAuth", "cookieAuth"}


def test_the_schema_and_docs_are_public(anon):
    assert anon.get("/api/v1/schema/").status_code == 200
    docs = anon.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert anon.get("/api/v1/redoc/").status_code == 200


@pytest.fixture
def schema_generations(monkeypatch):
    """How many times the schema is generated: the generator still runs, and is counted."""
    from drf_spectacular.generators import SchemaGenerator

    from bridge.api.schema import SchemaView

    monkeypatch.setattr(SchemaView, "rendered", {})  # this test starts with a cold process cache
    calls = []
    original = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    return calls


def test_the_schema_is_generated_once_per_process_and_format(anon, schema_generations):
    first = anon.get("/api/v1/schema/")
    second = anon.get("/api/v1/schema/")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.content.startswith(b"openapi: 3")
    assert first["Content-Type"] == second["Content-Type"]
    assert len(schema_generations) == 1
    as_json = [anon.get("/api/v1/schema/?format=json"), anon.get("/api/v1/schema/", HTTP_ACCEPT="application/json; indent=0")]
    assert as_json[0].content == as_json[1].content and as_json[0].json()["openapi"].startswith("3")
    assert len(schema_generations) == 2
    for lang in ("xx", "de", "en"):  # one language: callers cannot add entries
        assert anon.get(f"/api/v1/schema/?lang={lang}").content == first.content
    assert len(schema_generations) == 2


def test_the_docs_load_their_assets_from_this_server():
    pytest.importorskip("drf_spectacular_sidecar", reason="drf-spectacular-sidecar is not installed: the docs use a CDN")
    from django.test import Client

    page = Client().get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn.jsdelivr.net" not in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# -- property-based: schemathesis ----------------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")
from django.core.wsgi import get_wsgi_application  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Loaded once at collection from the app in-process (the schema view needs no database).
# Not ``schemathesis.pytest.from_fixture``: its lazy loader uses a pytest internal that
# pytest 9 removed (``Function._nodeid``).
WSGI_APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", WSGI_APP).include(
    # This API's operations; the user-data endpoints are another module's to cover.
    tag_regex="^(catalogue|covers|libraries|trackers)$",
)


@pytest.fixture
def api_data(catalogue, admin, token_for, data_dir, tmp_path) -> str:
    """A catalogue with cover art and a scan run behind the API; the staff token to call it with.

    Django's WSGI handler closes the database connection after each request; the test's
    transaction must survive, so that is switched off meanwhile (as Django's test client does).
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    cover = store_cover(image_bytes("cover-navy.jpg", (400, 400), "JPEG"), "image/jpeg")
    for album in catalogue.albums.values():
        album.cover = cover
        album.save()
    catalogue.library.root = str(tmp_path)
    catalogue.library.save()
    f.scan_run(catalogue.library, errors=[{"path": "a.mp3", "error": "unreadable"}], error_count=1)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield token_for(admin)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case, api_data):
    # identity: schemathesis' in-process transport does not undo gzip (tests/subsonic/test_cors_compression.py checks it)
    case.call_and_validate(headers={"Authorization": f"Token {api_data}", "Accept-Encoding": "identity"}, checks=CHECKS)
