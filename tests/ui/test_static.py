"""The running server (as `make run` runs it: collected static files) sends versioned,
compressed, immutable static files, and the page loads only versioned modules."""
from __future__ import annotations

import re
import urllib.request

VERSIONED = re.compile(r"/static/(?:js|css)/[\w-]+\.[0-9a-f]{12}\.(?:js|css)$")


def fetch(url, encoding="br, gzip"):
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_the_page_loads_only_versioned_static_files_compressed_and_immutable(pages, server):
    loaded = []
    page = pages.open("bob", login=False)
    page.on("response", lambda r: loaded.append((r.url, r.status, r.headers)) if "/static/" in r.url else None)
    pages.login(page, "bob")
    page.wait_for_selector(".album-card")
    scripts = [entry for entry in loaded if entry[0].endswith(".js")]
    assert len(scripts) >= 10, [url for url, *_ in loaded]
    for url, status, headers in loaded:
        if url.endswith(".svg") or "/img/" in url:
            continue
        assert VERSIONED.search(url), url
        assert status == 200, url
        assert "immutable" in headers["cache-control"] and "max-age=315360000" in headers["cache-control"], (url, headers)
    assert page.errors == []


def test_brotli_or_gzip_as_the_browser_accepts(server):
    html = urllib.request.urlopen(server.base_url + "/login/", timeout=10).read().decode()
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', html).group(1)
    _, plain_headers, plain = fetch(server.base_url + css, encoding="identity")
    assert "Content-Encoding" not in plain_headers
    _, br_headers, br_body = fetch(server.base_url + css, encoding="br, gzip")
    assert br_headers["Content-Encoding"] == "br" and len(br_body) < len(plain) / 3
    _, gz_headers, gz_body = fetch(server.base_url + css, encoding="gzip")
    assert gz_headers["Content-Encoding"] == "gzip" and len(gz_body) < len(plain) / 2
    assert "Accept-Encoding" in br_headers.get("Vary", "")
    assert br_headers["X-Content-Type-Options"] == "nosniff"
