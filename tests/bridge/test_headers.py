"""Security headers: secrets are never cached, static files are never sniffed."""
from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator

from mediaproject.asgi import application

PASSWORD = "correct horse battery"


def no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_token_endpoint_answers_no_store(make_user, client):
    make_user("alice")
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token"]
    assert no_store(response)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_subsonic_credentials_endpoint_answers_no_store(make_user, client, method):
    client.force_login(make_user("alice"))
    response = getattr(client, method)("/rest/credentials")
    assert response.status_code == 200
    assert no_store(response)


async def asgi_get(path: str) -> tuple[int, dict[bytes, bytes]]:
    """Status and headers of a GET through the whole ASGI application (static files included)."""
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "scheme": "http", "server": ("127.0.0.1", 80)}
    app = ApplicationCommunicator(application, scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(15)
    while (await app.receive_output(15)).get("more_body"):
        pass
    return start["status"], {name.lower(): value for name, value in start["headers"]}


async def test_static_files_are_served_with_nosniff():
    for path, status in (("/static/js/app.js", 200), ("/static/css/app.css", 200), ("/static/no-such-file.js", 404)):
        got, headers = await asgi_get(path)
        assert got == status
        assert headers.get(b"x-content-type-options") == b"nosniff", path


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/login/", "/admin/", "/admin/login/", "/api/v1/docs/", "/api/v1/redoc/",
                                  "/api/v1/albums/", "/no-such-page/"])
def test_every_page_carries_a_strict_content_security_policy(make_user, client, path):
    client.force_login(make_user("root", staff=True))
    response = client.get(path)
    assert response.status_code in (200, 302, 404), response.status_code
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline scripts, no eval, no other origins
    assert csp["connect-src"] == ["'self'"]  # the API and the WebSocket, same origin only
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]


@pytest.mark.django_db
def test_only_the_api_docs_allow_inline_styles(client):
    assert policy(client.get("/login/"))["style-src"] == ["'self'"]
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        assert policy(client.get(path))["style-src"] == ["'self'", "'unsafe-inline'"]
