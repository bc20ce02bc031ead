"""The envelope: formats, versions, error codes as constants, HTTP details of the endpoint."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from bridge.subsonic import responses
from bridge.subsonic.responses import SubsonicError, envelope, render, to_json, to_xml

from .helpers import NS, assert_same

pytestmark = pytest.mark.django_db


def test_error_codes_are_the_standard_numbers():
    assert (
        responses.ERROR_GENERIC, responses.ERROR_MISSING_PARAMETER, responses.ERROR_CLIENT_TOO_OLD,
        responses.ERROR_SERVER_TOO_OLD, responses.ERROR_WRONG_CREDENTIALS, responses.ERROR_TOKEN_AUTH_NOT_SUPPORTED,
        responses.ERROR_AUTH_MECHANISM_NOT_SUPPORTED, responses.ERROR_CONFLICTING_AUTH,
        responses.ERROR_INVALID_API_KEY, responses.ERROR_NOT_AUTHORIZED, responses.ERROR_NOT_FOUND,
    ) == (0, 10, 20, 30, 40, 41, 42, 43, 44, 50, 70)


def test_envelope_fields_in_json_and_xml():
    body = envelope("ok", {"genres": {"genre": [{"songCount": 2, "value": "Rock & Roll"}]}})
    data = json.loads(to_json(body))["subsonic-response"]
    assert data == {"status": "ok", "version": "1.16.1", "type": "musicserver", "serverVersion": responses.SERVER_VERSION,
                    "openSubsonic": True, "genres": {"genre": [{"songCount": 2, "value": "Rock & Roll"}]}}
    root = ET.fromstring(to_xml(body))
    assert root.tag == NS + "subsonic-response"
    assert root.attrib == {"status": "ok", "version": "1.16.1", "type": "musicserver",
                           "serverVersion": responses.SERVER_VERSION, "openSubsonic": "true"}
    genre = root.find(f"{NS}genres/{NS}genre")
    assert genre.text == "Rock & Roll" and genre.get("songCount") == "2"


def test_xml_escapes_attributes_and_text_and_drops_nones():
    root = ET.fromstring(to_xml(envelope("ok", {"song": {"title": 'a "quoted" <tag> & more', "year": None,
                                                          "genres": [{"name": "x"}, None], "value": "<b>"}})))
    song = root.find(NS + "song")
    assert song.get("title") == 'a "quoted" <tag> & more' and "year" not in song.attrib and song.text == "<b>"
    assert len(song.findall(NS + "genres")) == 1


def test_xml_drops_characters_xml_cannot_carry():
    root = ET.fromstring(to_xml(envelope("ok", {"song": {"title": "bad\x00\x1b title\n", "value": "x\x07y"}})))
    assert root.find(NS + "song").get("title") == "bad title\n" and root.find(NS + "song").text == "xy"


def test_lists_of_scalars_are_repeated_text_elements():
    body = envelope("ok", {"openSubsonicExtensions": [{"name": "formPost", "versions": [1, 2]}]})
    root = ET.fromstring(to_xml(body))
    assert [v.text for v in root.find(NS + "openSubsonicExtensions").findall(NS + "versions")] == ["1", "2"]
    assert_same(json.loads(to_json(body))["subsonic-response"], root)


def test_jsonp_wraps_json_in_the_callback():
    response = render(envelope(), "jsonp", "window.cb_1")
    assert response["Content-Type"].startswith("application/javascript")
    text = response.content.decode()
    assert text.startswith("window.cb_1(") and text.endswith(");")
    assert json.loads(text[len("window.cb_1("):-2])["subsonic-response"]["status"] == "ok"


@pytest.mark.parametrize("callback", [None, "", "alert(1)//", "a b", "x;y"])
def test_jsonp_refuses_a_missing_or_unsafe_callback(callback):
    response = render(envelope(), "jsonp", callback)
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["subsonic-response"]
    assert error["status"] == "failed" and error["error"]["code"] == 10


def test_error_envelope():
    body = json.loads(to_json(responses.error_envelope(SubsonicError(70, "gone"))))["subsonic-response"]
    assert body["status"] == "failed" and body["error"] == {"code": 70, "message": "gone"}
    assert body["openSubsonic"] is True and body["version"] == "1.16.1"


# -- the endpoint -------------------------------------------------------------------------------


def test_method_with_and_without_view_suffix_get_and_post(alice):
    for view in (True, False):
        for post in (False, True):
            response = alice.raw("ping", view=view, post=post, f="json")
            assert response.status_code == 200
            assert json.loads(response.content)["subsonic-response"]["status"] == "ok", (view, post)


def test_xml_is_the_default_and_unknown_formats_fall_back_to_it(alice):
    for fmt in (None, "xml", "nonsense"):
        response = alice.raw("ping", **({"f": fmt} if fmt else {}))
        assert response["Content-Type"].startswith("text/xml")
        assert ET.fromstring(response.content).get("status") == "ok"


def test_jsonp_over_http(alice):
    response = alice.raw("ping", f="jsonp", callback="handle")
    assert response.content.decode().startswith("handle({")


@pytest.mark.parametrize("path", ["/rest/noSuchMethod.view", "/rest/noSuchMethod", "/rest/", "/rest/a/b/c"])
def test_unknown_methods_answer_in_the_envelope(path):
    for fmt, parse in (("json", lambda r: json.loads(r.content)["subsonic-response"]),
                       ("xml", lambda r: ET.fromstring(r.content))):
        response = Client(HTTP_HOST="127.0.0.1").get(path, {"f": fmt})
        assert response.status_code == 200
        body = parse(response)
        if fmt == "json":
            assert body["status"] == "failed" and body["error"]["code"] == responses.ERROR_NOT_FOUND
        else:
            assert body.get("status") == "failed" and body.find(NS + "error").get("code") == "70"


def test_errors_are_http_200_even_for_bad_credentials():
    response = Client(HTTP_HOST="127.0.0.1").get("/rest/ping.view", {"u": "nobody", "p": "x", "f": "json"})
    assert response.status_code == 200
    assert json.loads(response.content)["subsonic-response"]["error"]["code"] == 40


def test_form_posts_need_no_csrf_token(alice):
    alice.http = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    response = alice.raw("ping", post=True, f="json")
    assert json.loads(response.content)["subsonic-response"]["status"] == "ok"


def test_parameters_from_query_and_body_together(alice):
    query = "f=json&v=1.16.1&c=t&" + "&".join(f"{k}={v}" for k, v in alice.credentials().items())
    response = alice.http.post(f"/rest/getUser.view?{query}", {"username": "alice"})
    assert json.loads(response.content)["subsonic-response"]["user"]["username"] == "alice"


@pytest.mark.parametrize("version,code", [("0.9.0", 20), ("2.0.0", 30)])
def test_other_major_protocol_versions_are_refused(alice, version, code):
    body = alice.json("ping", v=version)
    assert body["status"] == "failed" and body["error"]["code"] == code


def test_newer_minor_versions_are_accepted(alice):
    assert alice.json("ping", v="1.99.0")["status"] == "ok"


def test_extensions_need_no_credentials():
    response = Client(HTTP_HOST="127.0.0.1").get("/rest/getOpenSubsonicExtensions", {"f": "json"})
    body = json.loads(response.content)["subsonic-response"]
    assert body["status"] == "ok"
    names = {ext["name"] for ext in body["openSubsonicExtensions"]}
    assert {"apiKeyAuthentication", "formPost", "songLyrics"} <= names


def test_a_server_failure_is_error_0_not_a_traceback(alice, monkeypatch):
    from bridge.subsonic.methods import system

    monkeypatch.setattr(system, "_folders", lambda: 1 / 0)
    body = alice.json("getMusicFolders")
    assert body["status"] == "failed" and body["error"]["code"] == 0 and "Traceback" not in body["error"]["message"]
