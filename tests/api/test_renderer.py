"""The REST API's JSON renderer writes what DRF's own renderer writes, faster."""
from __future__ import annotations

import datetime
import decimal
import json
import uuid

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from bridge.api.renderers import JSONRenderer

DATA = {
    "id": 7, "title": "Ærø — ünïcode ✓", "none": None, "flag": True, "ratio": 0.25, "list": [1, "two", None],
    "nested": {"deep": [{"a": 1}]}, 3: "an int key",
    "when": datetime.datetime(2026, 12, 5, 7, 30, 1, 123456, tzinfo=datetime.timezone.utc),
    "day": datetime.date(2026, 12, 5), "price": decimal.Decimal("1.50"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"), "lazy": gettext_lazy("Not found."),
}


def test_the_bytes_are_drfs_bytes():
    ours = JSONRenderer().render(DATA, "application/json", {})
    assert ours == DrfJSONRenderer().render(DATA, "application/json", {})
    assert json.loads(ours)["when"] == "2026-12-05T07:30:01.123456Z"  # DRF's form of a UTC time


def test_indented_json_when_asked_for():
    indented = JSONRenderer().render({"a": [1]}, "application/json; indent=2", {})
    assert indented == b'{\n  "a": [\n    1\n  ]\n}'


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_the_api_answers_with_it_and_only_in_json(client, make_user):
    client.force_login(make_user("reader"))
    response = client.get("/api/v1/genres/")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is JSONRenderer
    assert response["Content-Type"] == "application/json"
    assert response.content == b"[]"
    html_only = client.get("/api/v1/genres/", HTTP_ACCEPT="text/html")
    assert html_only.status_code == 406
    assert json.loads(html_only.content)["error"]["code"]
