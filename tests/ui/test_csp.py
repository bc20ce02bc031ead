"""Content-Security-Policy in a real browser: the app, the admin and the API docs run under
it without a single violation (every browser test checks that for its own pages, see
``conftest``), and what it forbids is blocked and reported."""
from __future__ import annotations

from .conftest import LONG_ALBUM, open_album, wait_audio


def test_an_injected_inline_script_is_blocked_and_reported(pages, request):
    request.node.expects_csp_violations = True
    page = pages.open("bob")
    page.evaluate("""() => {
      const el = document.createElement('script');
      el.textContent = 'window.injected = true;';
      document.body.append(el);
      const img = document.createElement('img');
      img.src = 'https://example.org/pixel.png';
      document.body.append(img);
    }""")
    page.wait_for_function("() => true")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.injected === undefined")
    text = " ".join(page.csp_violations)
    assert "script-src-elem blocked inline" in text, page.csp_violations
    assert "img-src blocked https://example.org/pixel.png" in text, page.csp_violations


def test_the_app_plays_with_covers_and_its_websocket_under_the_policy(pages):
    page = pages.open("bob")
    page.wait_for_selector(".album-card")
    open_album(page, LONG_ALBUM)
    page.click("#album-play")
    wait_audio(page, "!a.paused && a.currentTime > 0.3")
    page.click("a[data-nav=devices]")
    page.click("a[data-nav=subsonic]")
    page.wait_for_timeout(500)
    assert page.errors == []
    assert page.csp_violations == []


def test_the_admin_and_the_api_docs_run_under_the_policy(pages, server, request):
    request.node.expects_csp_violations = True  # one, checked below
    page = pages.open("alice")
    for path, ready in (("/admin/", "#content"), ("/admin/password_change/", "#id_old_password"),
                        ("/api/v1/docs/", ".swagger-ui .opblock"), ("/api/v1/redoc/", "[role=search], .api-content")):
        response = page.goto(server.base_url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_selector(ready, timeout=20000)
    page.wait_for_timeout(500)
    # Redoc's "powered by" logo comes from its maker's site: kept out, as it should be.
    assert [v for v in page.csp_violations if "cdn.redoc.ly" not in v] == [], page.csp_violations
