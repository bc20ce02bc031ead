"""getUsers (staff only), getAvatar (a generated picture, the same each time) and tokenInfo."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from bridge.subsonic import credentials

from . import helpers as h
from .conftest import Subsonic
from .schema import validate_xml as validate

pytestmark = pytest.mark.django_db


def test_get_users_is_for_staff(alice, admin):
    users = admin.ok("getUsers")["users"]["user"]
    assert [u["username"] for u in users] == ["alice", "root"]
    assert [u["adminRole"] for u in users] == [False, True]
    validate(admin.raw("getUsers").content)
    body = alice.json("getUsers")
    assert body["status"] == "failed" and body["error"]["code"] == 50


def test_get_avatar_draws_the_users_initials(alice, admin, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    response = alice.raw("getAvatar")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    first = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(first))
    assert image.size == (256, 256)
    corner, centre = image.getpixel((2, 2)), image.getpixel((128, 128))
    assert corner != (255, 255, 255)  # a coloured background ...
    assert any(image.getpixel((x, y)) == (255, 255, 255) for x in range(90, 170) for y in range(90, 170)), centre  # ... white letters
    assert len(list((tmp_path / "avatars").iterdir())) == 1  # kept once
    again = b"".join(alice.raw("getAvatar", username="alice").streaming_content)
    assert again == first
    other = b"".join(alice.raw("getAvatar", username="root").streaming_content)
    assert other != first and Image.open(io.BytesIO(other)).getpixel((2, 2)) != corner
    assert alice.json("getAvatar", username="nobody")["error"]["code"] == 70


def test_token_info_names_the_api_keys_user(alice):
    key = credentials.api_key_reset(alice.user)
    client = Subsonic("alice", api_key=key, auth="apikey")
    assert client.ok("tokenInfo")["tokenInfo"] == {"username": "alice"}
    response = client.raw("tokenInfo")
    validate(response.content)
    assert ET.fromstring(response.content).find(h.NS + "tokenInfo").get("username") == "alice"
    assert Subsonic("alice", api_key="wrong", auth="apikey").json("tokenInfo")["error"]["code"] == 44
