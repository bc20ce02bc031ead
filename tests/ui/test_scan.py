"""Staff start a scan from the libraries view, watch it live; new albums appear without a reload."""
from __future__ import annotations

# Installed in the staff page before the scan: every status and "added" count the
# library card shows, in order.
RECORD = """() => {
  window.seen = [];
  const look = () => {
    const card = document.querySelector('.library-card');
    if (!card) return;
    const added = card.querySelector('[data-counter=added] strong');
    const entry = card.dataset.status + ':' + (added ? added.textContent : '');
    if (window.seen[window.seen.length - 1] !== entry) window.seen.push(entry);
  };
  new MutationObserver(look).observe(document.getElementById('view'), {subtree: true, childList: true, attributes: true, characterData: true});
  look();
}"""


def test_staff_scan_shows_progress_and_new_albums_appear(pages, server):
    from library.sample import make_sample_library

    listener = pages.open("bob")
    listener.wait_for_selector(".album-card")
    before = listener.locator(".album-card").count()

    staff = pages.open("alice")
    assert staff.locator("a[href='/admin/']").count() >= 1
    staff.click("a[data-nav=libraries]")
    card = staff.locator(".library-card").first
    card.wait_for()
    # (Named "Music" once /api/v1/libraries/ answers; "Library <id>" without it.)
    staff.wait_for_selector(".library-card[data-status=completed]")  # the scan made at setup

    summary = make_sample_library(server.music / "New Arrivals", count=300, seed=7)
    new_albums = sorted({track.album for track in summary.tracks})
    staff.evaluate(RECORD)
    card.locator("[data-act=scan]").click()

    staff.wait_for_function("() => window.seen.some((s) => s.startsWith('running'))", timeout=15000)
    staff.wait_for_selector(".library-card[data-status=completed]", timeout=60000)
    seen = staff.evaluate("() => window.seen")
    assert any(s.startswith("running") for s in seen), seen
    assert seen[-1] == "completed:300", seen
    assert "300" in card.locator("[data-counter=added]").text_content()

    # The listener's album grid grew by itself.
    listener.wait_for_selector(f".album-card[title=\"{new_albums[0]}\"]", timeout=10000)
    listener.wait_for_function(f"() => document.querySelectorAll('.album-card').length >= {before + len(new_albums) - 1}")
    assert listener.url.endswith("/") or "#/" in listener.url


def test_libraries_view_is_staff_only(pages, server):
    page = pages.open("bob")
    page.goto(server.base_url + "/#/libraries")
    page.wait_for_selector("text=Nothing here")
    assert page.locator(".library-card").count() == 0
