"""Fixtures for the REST API tests: users with tokens, API clients, a small catalogue, covers."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.asgi_client import through_asgi
from tests.library import factories as f

TEMPLATES = Path(settings.BASE_DIR) / "library" / "sample_templates"


@pytest.fixture
def client_for(make_user, token_for, transport):
    """``client_for(user)`` -> an APIClient sending the user's token; ``client_for(None)``: anonymous.
    Through the real ASGI application in the ``asgi`` run of a test marked ``asgi``."""

    def make(user=None) -> APIClient:
        client = through_asgi(APIClient()) if transport == "asgi" else APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def admin(make_user):
    return make_user("admin", staff=True)


@pytest.fixture
def anon(client_for):
    return client_for(None)


@pytest.fixture
def as_alice(client_for, alice):
    return client_for(alice)


@pytest.fixture
def as_bob(client_for, bob):
    return client_for(bob)


@pytest.fixture
def as_admin(client_for, admin):
    return client_for(admin)


def assert_error(response, status: int, code: str) -> dict:
    """The response is the API's one error shape with this status and code; returns the error."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


@dataclass
class Catalogue:
    library: object
    other_library: object
    artists: dict
    albums: dict
    tracks: dict


@pytest.fixture
def catalogue(db) -> Catalogue:
    """Two libraries, four artists, four albums over three years and two genres, and tracks."""
    main = f.library("Main")
    other = f.library("Other")
    boc = f.artist("Boards of Canada")
    bjork = f.artist("Björk")
    sigur = f.artist("Sigur Rós")
    various = f.artist("Various Artists")
    albums = {
        "geogaddi": f.album("Geogaddi", boc, year=2002, genres=["Electronic"]),
        "mhtrtc": f.album("Music Has the Right to Children", boc, year=1998, genres=["Electronic"]),
        "homogenic": f.album("Homogenic", bjork, year=1997, genres=["Electronic", "Pop"]),
        "agaetis": f.album("Ágætis byrjun", sigur, year=1999, genres=["Post-Rock"]),
        "mix": f.album("A Mix", various, compilation=True),
    }
    tracks = {
        "music_is_math": f.track("Music Is Math", albums["geogaddi"], number=2, lib=main),
        "ready_lets_go": f.track("Ready Lets Go", albums["geogaddi"], number=1, lib=main),
        "roygbiv": f.track("Roygbiv", albums["mhtrtc"], number=5, lib=main),
        "joga": f.track("Jóga", albums["homogenic"], number=2, lib=main, genres=["Pop"]),
        "svefn": f.track("Svefn-g-englar", albums["agaetis"], number=2, lib=other),
        "mixed": f.track("Hunter", albums["mix"], artists=[bjork, boc], number=1, lib=other),
    }
    return Catalogue(main, other, {"boc": boc, "bjork": bjork, "sigur": sigur, "various": various}, albums, tracks)


def image_bytes(template: str, size: tuple[int, int] | None = None, fmt: str | None = None, mode: str | None = None) -> bytes:
    """A real image from a sample template, optionally scaled up, converted or re-encoded."""
    from PIL import Image

    with Image.open(TEMPLATES / template) as image:
        image.load()
        if mode:
            image = image.convert(mode)
        if size:
            image = image.resize(size)
        out = io.BytesIO()
        image.save(out, fmt or image.format or "PNG")
        return out.getvalue()


@pytest.fixture
def data_dir(tmp_path, settings):
    """A fresh DATA_DIR for the test (cover files and resized copies land there)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR
