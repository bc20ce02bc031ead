"""Another site on the same host cannot ride a logged-in user's WebSocket.

Browsers send cookies by host, not by port: a page served from another port of the
server's host carries the user's session cookie on a socket it opens to the server. The
handshake's Origin check must refuse it, as Django's CSRF check would.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# Opens the server's socket and resolves to what it heard within two seconds.
PROBE = """(url) => new Promise((resolve) => {
  const frames = [];
  const ws = new WebSocket(url);
  ws.onmessage = (e) => frames.push(JSON.parse(e.data));
  ws.onclose = (e) => resolve({frames, closed: e.code});
  setTimeout(() => resolve({frames, closed: null}), 2000);
})"""


@pytest.fixture
def other_port_site(server):
    """A plain HTTP server on another port of 127.0.0.1 serving the probe page."""
    url = f"ws://127.0.0.1:{server.port}/ws/"
    page = f"<!doctype html><title>probe</title><script>window.heard = ({PROBE})({url!r});</script>".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}/"
    site.shutdown()
    site.server_close()
    thread.join()


def test_a_page_on_another_port_gets_no_welcome(pages, server, other_port_site):
    page = pages.open("bob")  # logged in: the browser holds bob's session cookie for 127.0.0.1
    # The same probe from the server's own origin is welcomed (the cookie works) ...
    own = page.evaluate(PROBE, f"ws://127.0.0.1:{server.port}/ws/")
    assert own["frames"] and own["frames"][0]["event"] == "system.session.welcome", own
    assert own["frames"][0]["payload"]["user"]["username"] == "bob"
    # ... but from a page on another port of the same host, in the same browser, it is refused.
    other = pages.contexts[-1].new_page()
    other.csp_violations = []  # another site's page: the context's listener reports to the first page
    pages.pages.append(other)
    other.goto(other_port_site)
    heard = other.evaluate("() => window.heard")
    assert heard["frames"] == [], heard
    assert heard["closed"] is not None and heard["closed"] != 1000  # the handshake failed (1006)
