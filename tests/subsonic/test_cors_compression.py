"""CORS on ``/rest/`` and gzip of large API answers, through the real ASGI application."""
from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client

from tests.asgi_client import through_asgi

from .conftest import HOST, Subsonic

pytestmark = pytest.mark.django_db


@pytest.fixture
def http() -> Client:
    return through_asgi(Client(**HOST))


@pytest.fixture
def alice_asgi(subsonic_user) -> Subsonic:
    user, password = subsonic_user("alice")
    return Subsonic("alice", password, transport="asgi")


def test_a_preflight_is_answered_without_an_error_envelope(http):
    response = http.options("/rest/search3.view", HTTP_ORIGIN="https://app.example",
                            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-custom")
    assert response.status_code == 204 and response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert response["Access-Control-Allow-Headers"] == "content-type, x-custom"
    assert "Access-Control-Allow-Credentials" not in response


def test_answers_of_any_origin_carry_cors_headers(catalogue, alice_asgi):
    response = alice_asgi.raw("ping", f="json", HTTP_ORIGIN="https://app.example")
    assert response["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in response
    failed = alice_asgi.http.get("/rest/ping.view", {"u": "alice", "p": "wrong", "f": "json"})
    assert failed["Access-Control-Allow-Origin"] == "*"  # errors too: the app can read the message
    stream = alice_asgi.raw("stream", id=f"tr-{catalogue['tracks'][0]}")
    assert stream["Access-Control-Allow-Origin"] == "*" and "Content-Range" in stream["Access-Control-Expose-Headers"]


def test_the_browsers_credentials_endpoint_gets_no_cors(http, make_user):
    http.force_login(make_user("bob"))
    response = http.get("/rest/credentials", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    assert http.options("/rest/credentials", HTTP_ORIGIN="https://evil.example").get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_large_subsonic_answers_are_gzipped_for_clients_that_accept_it(catalogue, alice_asgi, fmt):
    plain = alice_asgi.raw("search3", query="", songCount=30, f=fmt)
    assert "Content-Encoding" not in plain and len(plain.content) > 1024
    packed = alice_asgi.raw("search3", query="", songCount=30, f=fmt, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content) / 2
    assert gzip.decompress(packed.content) == plain.content
    small = alice_asgi.raw("ping", f=fmt, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in small  # small answers: not worth it


def test_streams_and_covers_are_never_gzipped(catalogue, alice_asgi):
    stream = alice_asgi.raw("stream", id=f"tr-{catalogue['tracks'][0]}", HTTP_ACCEPT_ENCODING="gzip")
    assert stream["Content-Type"].startswith("audio/") and "Content-Encoding" not in stream
    cover = alice_asgi.raw("getCoverArt", id=f"al-{catalogue['albums'][0]}", HTTP_ACCEPT_ENCODING="gzip")
    assert cover["Content-Type"].startswith("image/") and "Content-Encoding" not in cover


def test_large_rest_answers_are_gzipped_but_not_secrets(catalogue, http, make_user, token_for):
    user = make_user("carol")
    auth = {"HTTP_AUTHORIZATION": f"Token {token_for(user)}"}
    plain = http.get("/api/v1/schema/", {"format": "json"}, **auth)
    packed = http.get("/api/v1/schema/", {"format": "json"}, HTTP_ACCEPT_ENCODING="gzip", **auth)
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.content)) == json.loads(plain.content)
    token = http.post("/api/v1/auth/token/", {"username": "carol", "password": "correct horse battery"},
                      HTTP_ACCEPT_ENCODING="gzip")
    assert token.status_code == 200 and "Content-Encoding" not in token
