"""Subsonic fixtures: a real scanned catalogue, users with Subsonic passwords, and a client
that speaks the API in JSON or XML (password, ``enc:``, token or API key auth)."""
from __future__ import annotations

import hashlib
import json
import secrets
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from library.sample import make_sample_library
from tests.asgi_client import through_asgi

NS = "{http://subsonic.org/restapi}"
HOST = {"HTTP_HOST": "127.0.0.1"}


@pytest.fixture(scope="module")
def catalogue(django_db_blocker, tmp_path_factory):
    """30 generated audio files scanned into the test database once per module (committed,
    removed again afterwards), with the generator's summary of what they hold."""
    from library.models import Album, Artist, Genre, Track
    from orchestrator import services

    root = tmp_path_factory.mktemp("music")
    summary = make_sample_library(root, count=30, seed=1)
    with django_db_blocker.unblock():
        library = services.library_add("Music", str(root), interval=0)
        scan = services.scan_now(library, trigger="command", workers=1)
        assert scan.status == "completed", scan.message
        data = {
            "summary": summary,
            "root": root,
            "library": library.pk,
            "tracks": list(Track.objects.order_by("id").values_list("id", flat=True)),
            "albums": list(Album.objects.order_by("id").values_list("id", flat=True)),
            "artists": list(Artist.objects.filter(albums__isnull=False).distinct().order_by("id").values_list("id", flat=True)),
            "genres": list(Genre.objects.order_by("name").values_list("name", flat=True)),
        }
    yield data
    with django_db_blocker.unblock():
        services.library_remove(library.pk, force=True)


class Subsonic:
    """A Subsonic client on Django's test client: ``call(method, **params)`` -> the
    ``subsonic-response`` as a dict (JSON) or an Element (XML)."""

    def __init__(self, username: str, password: str | None = None, *, api_key: str | None = None,
                 auth: str = "token", client: str = "pytest", transport: str = "test client") -> None:
        self.http = through_asgi(Client(**HOST)) if transport == "asgi" else Client(**HOST)
        self.username, self.password, self.api_key, self.auth, self.client = username, password, api_key, auth, client

    def credentials(self) -> dict[str, str]:
        if self.auth == "apikey":
            return {"apiKey": self.api_key}
        if self.auth == "password":
            return {"u": self.username, "p": self.password}
        if self.auth == "enc":
            return {"u": self.username, "p": "enc:" + self.password.encode().hex()}
        salt = secrets.token_hex(6)
        return {"u": self.username, "s": salt, "t": hashlib.md5((self.password + salt).encode()).hexdigest()}

    def raw(self, method: str, *, post: bool = False, view: bool = True, **params):
        """``HTTP_*`` keywords are request headers, the others parameters (``None``: left out)."""
        headers = {key: params.pop(key) for key in list(params) if key.startswith("HTTP_")}
        query = {"v": "1.16.1", "c": self.client, **self.credentials(), **params}
        query = {key: value for key, value in query.items() if value is not None}
        url = f"/rest/{method}.view" if view else f"/rest/{method}"
        return self.http.post(url, query, **headers) if post else self.http.get(url, query, **headers)

    def json(self, method: str, **params) -> dict:
        response = self.raw(method, f="json", **params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        return json.loads(response.content)["subsonic-response"]

    def xml(self, method: str, **params) -> ET.Element:
        response = self.raw(method, **params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.content)
        assert root.tag == NS + "subsonic-response"
        return root

    def ok(self, method: str, **params) -> dict:
        body = self.json(method, **params)
        assert body["status"] == "ok", body
        return body

    def ok_xml(self, method: str, **params) -> ET.Element:
        root = self.xml(method, **params)
        assert root.get("status") == "ok", ET.tostring(root)
        return root


@pytest.fixture
def subsonic_user(make_user):
    """``(user, subsonic password)``."""
    from bridge.subsonic import credentials

    def make(username: str = "alice", *, staff: bool = False):
        user = make_user(username, staff=staff)
        return user, credentials.password_reset(user)

    return make


@pytest.fixture
def alice(subsonic_user, transport) -> Subsonic:
    """Through the real ASGI application in the ``asgi`` run of a test marked ``asgi``."""
    user, password = subsonic_user("alice")
    client = Subsonic("alice", password, transport=transport)
    client.user = user
    return client


@pytest.fixture
def admin(subsonic_user, transport) -> Subsonic:
    user, password = subsonic_user("root", staff=True)
    client = Subsonic("root", password, transport=transport)
    client.user = user
    return client


def child(element: ET.Element, name: str) -> ET.Element:
    found = element.find(NS + name)
    assert found is not None, f"no <{name}> in <{element.tag}>: {ET.tostring(element)[:500]!r}"
    return found


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return element.findall(NS + name)
