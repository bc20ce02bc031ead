"""The Radio view plays a station from another origin under the page's policy, and a share
link plays its tracks in a browser without an account."""
from __future__ import annotations

import functools
import http.server
import threading
import urllib.parse

import pytest

from devtools.deploy import free_port


@pytest.fixture
def station_host(server):
    """An HTTP server on another port (another origin) serving the sample music folder."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(server.music))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_radio_view_plays_a_station(pages, server, station_host):
    song = sorted(p for p in server.music.rglob("*.mp3"))[0].relative_to(server.music)
    url = f"{station_host}/{urllib.parse.quote(str(song))}"
    server.shell(f"from library import radio; radio.station_create(name='Test FM', stream_url={url!r})")
    try:
        page = pages.open("bob")
        page.click("a[data-nav=radio]")
        page.click("button.radio-station:has-text('Test FM')")
        page.wait_for_function("() => { const a = document.getElementById('radio-audio');"
                               " return !a.paused && a.currentTime > 0.3; }")
        assert page.inner_text("#radio-now") == "Playing Test FM"
        assert page.errors == []
    finally:
        server.shell("from library.models import InternetRadioStation as S; S.objects.filter(name='Test FM').delete()")


def test_a_share_link_plays_without_an_account(pages, server):
    token = server.shell(
        "from django.contrib.auth.models import User; from library.models import Track; from library.userdata import shares; "
        "ids = list(Track.objects.order_by('id').values_list('id', flat=True)[:2]); "
        "print(shares.share_create(User.objects.get(username='bob'), track_ids=ids, description='Two songs')['token'])"
    ).strip().splitlines()[-1]
    page = pages.open(login=False)
    page.goto(f"{server.base_url}/share/{token}")
    assert page.inner_text("h1").endswith("Two songs")
    assert page.locator(".share-track").count() == 2
    page.click(".share-track >> nth=0")
    page.wait_for_function("() => { const a = document.getElementById('share-audio');"
                           " return !a.paused && a.currentTime > 0.3; }")
    assert "/stream/" in page.evaluate("() => document.getElementById('share-audio').src")
    assert page.errors == []
