"""Internet radio: everyone lists the stations, staff change them (http and https URLs only),
and the app page lets the browser play exactly the listed stations' origins."""
from __future__ import annotations

import pytest
from django.test import Client

from .conftest import HOST
from .schema import validate_xml as validate

pytestmark = pytest.mark.django_db


def test_staff_manage_stations_and_everyone_lists_them(alice, admin):
    from library.models import InternetRadioStation

    admin.ok("createInternetRadioStation", name="Jazz FM", streamUrl="https://radio.example.org/jazz.mp3",
             homepageUrl="https://radio.example.org/")
    admin.ok("createInternetRadioStation", name="Ambient", streamUrl="http://10.0.0.5:8000/stream")
    stations = alice.ok("getInternetRadioStations")["internetRadioStations"]["internetRadioStation"]
    assert [(s["name"], s["streamUrl"], s.get("homePageUrl")) for s in stations] == [
        ("Ambient", "http://10.0.0.5:8000/stream", None),
        ("Jazz FM", "https://radio.example.org/jazz.mp3", "https://radio.example.org/"),
    ]
    validate(alice.raw("getInternetRadioStations").content)

    jazz = next(s["id"] for s in stations if s["name"] == "Jazz FM")
    admin.ok("updateInternetRadioStation", id=jazz, name="Jazz", streamUrl="https://radio.example.org/jazz2.mp3")
    assert InternetRadioStation.objects.get(pk=jazz).stream_url == "https://radio.example.org/jazz2.mp3"
    assert InternetRadioStation.objects.get(pk=jazz).homepage_url == ""

    # Only staff change stations.
    for method, params in (("createInternetRadioStation", {"name": "X", "streamUrl": "https://x.example/"}),
                           ("updateInternetRadioStation", {"id": jazz, "name": "X", "streamUrl": "https://x.example/"}),
                           ("deleteInternetRadioStation", {"id": jazz})):
        assert alice.json(method, **params)["error"]["code"] == 50
    admin.ok("deleteInternetRadioStation", id=jazz)
    assert list(InternetRadioStation.objects.values_list("name", flat=True)) == ["Ambient"]
    assert admin.json("deleteInternetRadioStation", id=jazz)["error"]["code"] == 70


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example.org/a.mp3", "file:///etc/passwd",
                                 "not a url", "https://"])
def test_only_web_urls_are_stations(admin, url):
    from library.models import InternetRadioStation

    body = admin.json("createInternetRadioStation", name="Bad", streamUrl=url)
    assert body["status"] == "failed" and body["error"]["code"] == 10 and "http" in body["error"]["message"]
    body = admin.json("createInternetRadioStation", name="Bad", streamUrl="https://ok.example/", homepageUrl=url)
    assert body["status"] == "failed" and body["error"]["code"] == 10
    assert not InternetRadioStation.objects.exists()


def test_the_app_page_allows_media_from_the_stations_only(make_user):
    from library import radio

    user = make_user("carol")
    browser = Client(**HOST)
    browser.force_login(user)
    before = browser.get("/")["Content-Security-Policy"]
    media = next(part for part in before.split(";") if part.strip().startswith("media-src"))
    assert media.split() == ["media-src", "'self'"]
    radio.station_create(name="Jazz", stream_url="https://user:pw@radio.example.org:8443/jazz.mp3")
    radio.station_create(name="Jazz low", stream_url="https://radio.example.org:8443/low.mp3")
    page = browser.get("/")
    media = next(part for part in page["Content-Security-Policy"].split(";") if part.strip().startswith("media-src"))
    assert media.split() == ["media-src", "'self'", "https://radio.example.org:8443"]
    assert b'"stream_url": "https://radio.example.org:8443/low.mp3"' in page.content
