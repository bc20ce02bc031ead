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


def cover_images(page):
    page.wait_for_function("() => [...document.querySelectorAll('.album-card img')].some((i) => i.complete && i.naturalWidth > 0)")
    return page.evaluate("() => [...document.querySelectorAll('.album-card img')].map((i) => ({src: i.getAttribute('src'), srcset: i.srcset, current: i.currentSrc, width: i.naturalWidth}))")


def test_covers_are_sharp_on_dense_screens_and_named_by_their_version(pages, server):
    desktop = pages.open("bob")
    phone = pages.open("bob", viewport={"width": 390, "height": 844}, scale=3)
    for page in (desktop, phone):
        page.evaluate("() => { location.hash = '#/albums'; }")
    on_desktop = [img for img in cover_images(desktop) if img["width"]]
    on_phone = [img for img in cover_images(phone) if img["width"]]
    assert on_desktop and on_phone
    for img in on_desktop + on_phone:
        assert re.match(r"^/api/v1/covers/\d+\?size=256$", img["src"]), img
        assert img["srcset"].endswith("size=768 3x") and "size=512 2x" in img["srcset"], img
    assert all(img["current"].endswith("size=256") for img in on_desktop)
    assert all(img["current"].endswith("size=768") for img in on_phone)
    # A new cover is a new address: caches cannot show the old one.
    first = on_desktop[0]["src"]
    cover_id = int(re.search(r"covers/(\d+)", first).group(1))
    album = server.shell(
        "from library.models import Album, CoverArt; import shutil; "
        f"a = Album.objects.filter(cover_id={cover_id}).order_by('id').first(); "
        f"other = CoverArt.objects.exclude(pk={cover_id}).order_by('id').first(); "
        "a.cover = other; a.save(update_fields=['cover']); print(a.title, other.pk)"
    ).strip().splitlines()[-1]
    title, new_id = album.rsplit(" ", 1)
    desktop.reload()
    desktop.wait_for_selector(".album-card img")
    src = desktop.locator(f".album-card[title='{title}'] img").get_attribute("src")
    assert src == f"/api/v1/covers/{new_id}?size=256", src
