"""Party sync and hand-off under real conditions, measured with per-page audio probes on one clock.

Three pages in one Chromium: the host, a guest whose clock runs 500 ms fast, a guest behind
a network with 150 ms of latency (75 ms each way: every HTTP request takes 150 ms more, as
with Chromium's network emulation, and WebSocket frames 75 ms). The figures come from ``devtools.syncprobe`` (``manage.py
bench sync`` prints them against the goals); this test asserts the behaviour with a margin
of about twice the goals, as the machine is shared and noisy.
"""
from __future__ import annotations

import math

import pytest

from devtools.syncprobe import RECORDER, LatencyProxy, handoff_scenario, login, party_scenario, skew_script, solo_scenario

from .conftest import LONG_ALBUM, LONG_TRACK_SECONDS, PASSWORD


def opener(pages):
    def open_page(username, base_url, init_script, device=None):
        page = pages.open(username, device=device, login=False)
        page.context.add_init_script(RECORDER)
        if init_script:
            page.context.add_init_script(init_script)
        login(page, base_url, username, PASSWORD)
        return page
    return open_page


def test_a_party_plays_in_step_through_skew_stall_latency_and_track_ends(pages, server):
    with LatencyProxy(server.port, 75) as proxy:
        # Each disturbance gets 6 s (twice the goal) to settle.
        figures = party_scenario(opener(pages), server.base_url, f"http://127.0.0.1:{proxy.port}",
                                 album=LONG_ALBUM, first="Hour 1", duration_s=LONG_TRACK_SECONDS, settle_s=6.0)
    report = ", ".join(f"{key}={value:.0f}" for key, value in figures.items())
    # Starting the party did not interrupt the host: no pause, no reload, no jump.
    assert figures["party_start_paused"] == 0 and figures["party_start_reloaded"] == 0, report
    assert figures["party_start_jump_ms"] < 100, report
    # Goals: p95 spread < 30 ms; back within 50 ms within 3 s (asserted: within 6 s of a
    # 2x bound).
    assert figures["steady_spread_p95_ms"] < 60, report
    for recovery in ("skew_converged_ms", "stall_converged_ms", "latency_converged_ms"):
        assert math.isfinite(figures[recovery]) and figures[recovery] < 6000, report
    # Each page's track played to its own end (the probe's sample of its `ended`): a member
    # behind the others plays out its end although the party moved on (20 ms were cut).
    assert figures["end_cut_max_ms"] < 1, report
    # The next track starts at one server time on the pages whose network keeps up with the
    # start stamp's lead (the slow one loads the track later and catches up, above).
    assert abs(figures["end_next_start_skewed_ms"]) < 200 and abs(figures["next_start_skewed_ms"]) < 200, report


def test_a_hand_off_goes_on_from_where_the_old_device_stopped_and_keeps_paused(pages):
    figures = handoff_scenario(opener(pages), pages.server.base_url, album=LONG_ALBUM, first="Hour 1")
    report = ", ".join(f"{key}={value:.0f}" for key, value in figures.items())
    assert abs(figures["handoff_skip_ms"]) < 60, report
    assert figures["paused_handoff_plays"] == 0, report
    assert abs(figures["paused_handoff_error_ms"]) < 60, report


def test_a_device_alone_plays_a_track_to_its_end_and_the_next_from_its_beginning(pages, server):
    figures = solo_scenario(opener(pages), server.base_url, album=LONG_ALBUM, first="Hour 2", duration_s=LONG_TRACK_SECONDS)
    assert figures["solo_end_cut_ms"] < 1, figures  # it reached its own `ended`
    assert figures["solo_next_start_position_ms"] < 60, figures


# The clock module this page loaded (whatever its served name), so its state is the page's own.
CLOCK_ESTIMATE = """async () => {
  const url = performance.getEntriesByType('resource').map((e) => e.name).find((n) => /\\/clock[.\\w-]*\\.js/.test(n));
  const clock = await import(url);
  return {offset: clock.offset(), uncertainty: clock.uncertainty()};
}"""


@pytest.mark.parametrize("skew_ms", [500, -500])
def test_a_clock_500_ms_off_is_estimated_within_a_few_ms(pages, server, skew_ms):
    with LatencyProxy(server.port, 40) as proxy:  # 80 ms round trips: the estimate is their middle
        page = pages.open("bob", login=False)
        page.context.add_init_script(skew_script(skew_ms))
        login(page, f"http://127.0.0.1:{proxy.port}", "bob", PASSWORD)
        page.wait_for_timeout(1500)  # the pings of a new connection
        estimate = page.evaluate(CLOCK_ESTIMATE)
    assert abs(estimate["offset"] + skew_ms) < 10, estimate
    assert 35 <= estimate["uncertainty"] < 80, estimate  # half the shortest round trip
