"""The one rule for the client's address (``bridge.clientaddr``), its ASGI step, the redaction
rule of the logs (``bridge.logs``), and how daphne is started."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.test import RequestFactory

from bridge.clientaddr import ProxyHeadersMiddleware, client_address, resolve
from bridge.logs import redact
from bridge.management.commands.serve import bridge_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("trusted,peer,forwarded,client", [
    ([], "192.0.2.1", [], "192.0.2.1"),
    ([], "192.0.2.1", ["203.0.113.5"], "192.0.2.1"),  # no proxy trusted: the header is ignored
    ([], "127.0.0.1", ["203.0.113.5"], "127.0.0.1"),
    (["127.0.0.1"], "192.0.2.1", ["203.0.113.5"], "192.0.2.1"),  # the peer is not a listed proxy
    (["127.0.0.1"], "127.0.0.1", ["203.0.113.5"], "203.0.113.5"),
    (["127.0.0.1"], "127.0.0.1", ["1.1.1.1, 203.0.113.5"], "203.0.113.5"),  # left of it: the client's own writing
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["1.1.1.1, 203.0.113.5, 10.2.3.4"], "203.0.113.5"),
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["1.1.1.1", "203.0.113.5, 10.2.3.4"], "203.0.113.5"),  # two headers
    (["10.0.0.0/8"], "10.0.0.1", ["10.0.0.7, 10.0.0.9"], "10.0.0.7"),  # all trusted: the left-most
    (["10.0.0.0/8"], "10.0.0.1", [], "10.0.0.1"),  # a proxy that sent no header
    (["10.0.0.0/8"], "10.0.0.1", ["garbage, 203.0.113.5"], "203.0.113.5"),
    (["10.0.0.0/8"], "10.0.0.1", ["203.0.113.5, garbage"], "garbage"),  # not an address: not trusted, the client
    (["::1"], "::1", ["[2001:db8::7]:4711"], "2001:db8::7"),
    (["::1"], "::1", ["203.0.113.5:4711"], "203.0.113.5"),
    ([], None, ["203.0.113.5"], "0.0.0.0"),
])
def test_resolve(settings, trusted, peer, forwarded, client):
    settings.TRUSTED_PROXIES = trusted
    assert resolve(peer, forwarded) == client


def test_a_resolved_request_resolves_to_itself(settings):
    """The ASGI step already put the client in REMOTE_ADDR: reading the request again agrees."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    header = "1.1.1.1, 203.0.113.5, 10.2.3.4"
    first = client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header))
    assert client_address(RequestFactory().get("/", REMOTE_ADDR=first, HTTP_X_FORWARDED_FOR=header)) == first == "203.0.113.5"


async def _scope_seen(scope) -> dict:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    await ProxyHeadersMiddleware(app)(scope, None, None)
    return seen


@pytest.mark.parametrize("kind,proto,scheme", [("http", b"https", "https"), ("websocket", b"https", "wss"),
                                               ("websocket", b"http", "ws"), ("http", b"gopher", "http")])
async def test_the_asgi_step_behind_a_trusted_proxy(settings, kind, proto, scheme):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    headers = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.5"), (b"x-forwarded-proto", proto)]
    seen = await _scope_seen({"type": kind, "client": ("127.0.0.1", 5000), "scheme": "ws" if kind == "websocket" else "http",
                              "headers": headers})
    assert seen["client"] == ("203.0.113.5", 0) and seen["scheme"] == scheme


async def test_the_asgi_step_leaves_other_peers_alone(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    scope = {"type": "http", "client": ("192.0.2.1", 5000), "scheme": "http",
             "headers": [(b"x-forwarded-for", b"203.0.113.5"), (b"x-forwarded-proto", b"https")]}
    seen = await _scope_seen(scope)
    assert seen["client"] == ("192.0.2.1", 5000) and seen["scheme"] == "http"


@pytest.mark.parametrize("text,expected", [
    ("GET /rest/ping.view?u=al&p=secret&v=1&c=x", "GET /rest/ping.view?u=al&p=[redacted]&v=1&c=x"),
    ("/rest/x?t=abc&s=salt&f=json", "/rest/x?t=[redacted]&s=[redacted]&f=json"),
    ("/rest/x?apiKey=k-1 200", "/rest/x?apiKey=[redacted] 200"),
    ('"GET /a?password=hunter2&new_password=x" 404', '"GET /a?password=[redacted]&new_password=[redacted]" 404'),
    ("/a?Token=x&access_token=y&SESSIONID=z", "/a?Token=[redacted]&access_token=[redacted]&SESSIONID=[redacted]"),
    ("/rest/x?ps=1&st=2&sp=3&author=a", "/rest/x?ps=1&st=2&sp=3&author=a"),  # not secrets
    ("no query here", "no query here"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_daphne_runs_without_its_proxy_headers_and_access_log():
    command = bridge_command("127.0.0.1", 8000)
    assert "--proxy-headers" not in command and command[command.index("-v") + 1] == "0"
    procfile = (ROOT / "Procfile").read_text()
    bridges = [line for line in procfile.splitlines() if line.startswith("bridge")]
    assert bridges and all("--proxy-headers" not in line and " -v 0 " in line for line in bridges)
