"""Measuring how well browser pages play in step (the sync test and ``bench sync``).

Each page gets an in-page recorder (``RECORDER``, an init script) that samples its audio
element every few ms onto one clock: ``performance.timeOrigin + performance.now()``,
which every page of one machine shares (unlike ``Date.now``, which the clock-skew
scenario overrides). The traces are read back and compared offline:

- ``spread``: at each instant, the largest difference between the pages' positions in
  the same track (interpolated between samples);
- ``converged_after``: how long a page took to come back within a bound of a reference
  page after an event, and stay there;
- ``plateaus``: where an element stood still (a pause, a start-up), for hand-offs and
  track ends.

``LatencyProxy`` adds a fixed delay each way to every TCP connection (HTTP and WebSocket
alike), a slow network for one page. ``SKEW_SCRIPT`` makes a page's clock run ahead.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from devtools.deploy import free_port
from devtools.stats import percentile

SAMPLE_EVERY_MS = 10
# Pages are compared by the track they stream (its stream path): the query may differ
# between pages for the same file (playable.js: a page that does not know the track's
# format yet lets the server choose, ?format=...&accept=...).
TRACK_OF = "(document.getElementById('audio')?.getAttribute('src') || '').split('?')[0]"
RECORDER = """(() => {
  const trace = [];
  window.__syncTrace = trace;
  window.__syncMark = (name) => trace.push([performance.timeOrigin + performance.now(), -1, 0, name]);
  setInterval(() => {
    const a = document.getElementById('audio');
    if (!a) return;
    trace.push([performance.timeOrigin + performance.now(), a.currentTime * 1000, a.paused ? 1 : 0, (a.getAttribute('src') || '').split('?')[0]]);
    if (trace.length > 20000) trace.splice(0, 5000);
  }, %d);
  // The end of a track, as its own sample: the interval may be late (a busy page) and miss
  // the last tens of ms, which would read as a cut; and an outgoing element may play out
  // its end after the next one became the active "audio". Only a track played to its end
  // has one.
  document.addEventListener('ended', (e) => {
    const a = e.target;
    if (a.tagName === 'AUDIO') trace.push([performance.timeOrigin + performance.now(), a.currentTime * 1000, 0, (a.getAttribute('src') || '').split('?')[0]]);
  }, true);
})();""" % SAMPLE_EVERY_MS


def skew_script(ms: int) -> str:
    """An init script: this page's Date.now runs ``ms`` ahead of the machine's clock."""
    return f"(() => {{ const now = Date.now.bind(Date); Date.now = () => now() + {int(ms)}; }})();"


@dataclass(frozen=True)
class Sample:
    t: float  # the common clock, ms
    pos: float  # audio position, ms
    paused: bool
    src: str


def trace(page, since: float = 0.0) -> list[Sample]:
    rows = page.evaluate("(since) => window.__syncTrace.filter((r) => r[0] >= since && r[1] >= 0)", since)
    return [Sample(t, pos, bool(paused), src) for t, pos, paused, src in rows]


def now(page) -> float:
    """The common clock (ms), read in a page."""
    return page.evaluate("() => performance.timeOrigin + performance.now()")


def position_at(samples: list[Sample], t: float) -> tuple[float, str] | None:
    """The position (interpolated) and track of a playing element at ``t``, or None."""
    for before, after in zip(samples, samples[1:]):
        if before.t <= t <= after.t:
            if before.paused or after.paused or before.src != after.src or after.pos < before.pos:
                return None
            if after.t == before.t:
                return before.pos, before.src
            share = (t - before.t) / (after.t - before.t)
            return before.pos + share * (after.pos - before.pos), before.src
    return None


def spread(traces: list[list[Sample]], start: float, end: float, step: float = 20.0) -> list[float]:
    """At each ``step`` from ``start`` to ``end``: max - min of the pages' positions, where every page plays the same track."""
    result = []
    t = start
    while t <= end:
        points = [position_at(samples, t) for samples in traces]
        if all(points) and len({src for _, src in points}) == 1:
            positions = [pos for pos, _ in points]
            result.append(max(positions) - min(positions))
        t += step
    return result


def errors(samples: list[Sample], reference: list[Sample], start: float, end: float, step: float = 20.0) -> list[tuple[float, float]]:
    """(t, position - reference position) at each step where both play the same track."""
    result = []
    t = start
    while t <= end:
        mine, theirs = position_at(samples, t), position_at(reference, t)
        if mine and theirs and mine[1] == theirs[1]:
            result.append((t, mine[0] - theirs[0]))
        t += step
    return result


def converged_after(samples: list[Sample], reference: list[Sample], event: float, end: float, bound_ms: float) -> float | None:
    """Ms from ``event`` until the page is within ``bound_ms`` of the reference and stays so until ``end`` (None: never)."""
    points = errors(samples, reference, event, end)
    if not points or abs(points[-1][1]) > bound_ms:
        return None
    last_bad = event
    for t, error in points:
        if abs(error) > bound_ms:
            last_bad = t
    return last_bad - event


def plateaus(samples: list[Sample], min_ms: float = 30.0) -> list[tuple[float, float, float, str]]:
    """(start t, end t, position, track) of each stretch where the element stood still."""
    result = []
    run_start = None
    for before, after in zip(samples, samples[1:]):
        still = abs(after.pos - before.pos) < 0.5 and after.src == before.src
        if still and run_start is None:
            run_start = before
        elif not still and run_start is not None:
            if before.t - run_start.t >= min_ms:
                result.append((run_start.t, before.t, run_start.pos, run_start.src))
            run_start = None
    if run_start is not None and samples[-1].t - run_start.t >= min_ms:
        result.append((run_start.t, samples[-1].t, run_start.pos, run_start.src))
    return result


def last_position(samples: list[Sample], src: str) -> float:
    """The furthest position the element reached in track ``src``."""
    return max((s.pos for s in samples if s.src == src), default=math.nan)


def p95(values: list[float]) -> float:
    return percentile(values, 95) if values else math.nan


# -- a slow network -------------------------------------------------------------------------


class LatencyProxy:
    """TCP proxy to ``127.0.0.1:target_port`` that delays every byte by ``delay_ms`` each way
    (order kept). Runs its own event loop in a thread; ``port`` is where to connect."""

    def __init__(self, target_port: int, delay_ms: float) -> None:
        self.target_port = target_port
        self.delay = delay_ms / 1000
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> "LatencyProxy":
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the latency proxy did not start")
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown() -> None:
            # Closing every socket ends every pipe; cancelling them would log the server's callbacks.
            for writer in list(self.writers):
                writer.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            if tasks:
                await asyncio.wait(tasks, timeout=2)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        self.writers -= {writer, up_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.delay, data))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((time.monotonic() + self.delay, None))
        try:
            await sender
        except (ConnectionError, OSError):
            pass


# -- a music folder ---------------------------------------------------------------------------


def write_album(folder: Path, artist: str, album: str, seconds: int, count: int, title: str = "Part", *,
                genre: str = "", year: str = "") -> None:
    """``count`` tagged mono WAV tracks of ``seconds`` each (a 220 Hz tone), "<title> <n>"."""
    from mutagen.id3 import TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK
    from mutagen.wave import WAVE

    folder.mkdir(parents=True, exist_ok=True)
    rate = 8000
    second = bytes(128 + int(24 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(rate))
    for number in range(1, count + 1):
        path = folder / f"{number:02d} {title} {number}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(1)
            out.setframerate(rate)
            out.writeframes(second * seconds)
        tags = WAVE(path)
        tags.add_tags()
        for frame in (TIT2(encoding=3, text=f"{title} {number}"), TPE1(encoding=3, text=artist), TPE2(encoding=3, text=artist),
                      TALB(encoding=3, text=album), TRCK(encoding=3, text=str(number)),
                      *([TCON(encoding=3, text=genre)] if genre else []), *([TDRC(encoding=3, text=year)] if year else [])):
            tags.tags.add(frame)
        tags.save()


# -- acting as the user -----------------------------------------------------------------------


def login(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#conn[data-status=open]")
    page.wait_for_function("() => !document.getElementById('device-name').textContent.includes('…')")


def play_track(page, album: str, title: str) -> None:
    """From anywhere: search for the album called ``album``, open it, then the play button of track ``title``."""
    page.fill("#search", album)
    page.wait_for_function("(q) => decodeURIComponent(location.hash) === '#/search/' + q", arg=album)
    page.click(f".album-card[title='{album}']")
    page.wait_for_selector("#album-play")
    row = page.locator(".track-row", has_text=title)
    row.hover()
    row.locator(".tr-play").click()
    page.wait_for_function("() => { const a = document.getElementById('audio'); return !a.paused && a.currentTime > 0.5; }")


def seek_bar(page, seconds: int) -> None:
    """Drag the player bar's seek bar to ``seconds`` and let go."""
    page.evaluate("(s) => { const el = document.getElementById('pb-seek'); el.value = s;"
                  " el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); }", seconds)


def start_party(host, name: str) -> str:
    """The host starts a party from what it plays; returns the share link."""
    host.click("a[data-nav=party]")
    host.fill("input[aria-label='Party name']", name)
    host.click("#party-create")
    host.wait_for_selector(f"h1:has-text('{name}')")
    host.wait_for_function(f"() => document.getElementById('pb-target').textContent.includes({name!r})")
    return host.input_value("#party-link")


def join_party(page, link: str, base_url: str) -> None:
    page.goto(link.replace(link.split("/#/")[0], base_url))
    page.click("#party-join")
    page.wait_for_selector("#party-listening")


def wait_all_playing(pages, src_of, timeout_ms: float = 15000) -> None:
    """Until every page plays the reference page's track."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        src = src_of.evaluate(f"() => {TRACK_OF}")
        states = [p.evaluate(f"() => [{TRACK_OF}, document.getElementById('audio').paused]") for p in pages]
        if all(s == src and not paused for s, paused in states):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"pages did not all play {src}: {states}")
        time.sleep(0.05)


def continuity(samples: list[Sample], start: float, end: float) -> dict[str, float]:
    """How a playing element fared from ``start`` to ``end``: the largest jump of its position
    against the clock (ms, either way), whether it paused, and whether its track changed."""
    window = [s for s in samples if start <= s.t <= end]
    worst = 0.0
    for before, after in zip(window, window[1:]):
        worst = max(worst, abs((after.pos - before.pos) - (after.t - before.t)))
    return {"jump_ms": worst, "paused": float(any(s.paused for s in window)),
            "reloaded": float(len({s.src for s in window}) > 1)}


# -- the scenarios (the browser test asserts on them; ``bench sync`` prints them) -------------


NAMES = ("host", "skewed", "slow")


def party_scenario(open_page, base_url: str, slow_base_url: str, *, album: str, first: str, duration_s: int,
                   steady_s: float = 5.0, settle_s: float = 3.0) -> dict[str, float]:
    """A host, a guest whose clock runs 500 ms fast and a guest on a slow network, in a party.

    ``open_page(username, base_url, init_script)`` opens a logged-in page. Returns the
    figures: the host's continuity while starting the party, the steady spread, each
    recovery time (within 50 ms: after joining with a skewed clock, after a 700 ms stall,
    after a track change on the slow network), what each page cut of a track's end, and
    how far apart the next track started.
    """
    figures: dict[str, float] = {}
    host = open_page("alice", base_url, "")
    play_track(host, album, first)
    time.sleep(1.0)
    before = now(host)
    link = start_party(host, "In step")
    time.sleep(1.0)
    figures.update({f"party_start_{key}": value for key, value in continuity(trace(host, before - 500), before - 500, now(host)).items()})

    skewed = open_page("bob", base_url, skew_script(500))
    slow = open_page("carol", slow_base_url, "")
    joined = now(host)
    join_party(skewed, link, base_url)
    join_party(slow, link, slow_base_url)
    everyone = [host, skewed, slow]
    wait_all_playing(everyone, host)
    time.sleep(settle_s)
    end = now(host)
    figures["skew_converged_ms"] = _converged(trace(skewed, joined), trace(host, joined), joined, end)

    start = now(host)
    time.sleep(steady_s)
    traces = [trace(page, start) for page in everyone]
    figures["steady_spread_p95_ms"] = p95(spread(traces, start, now(host)))
    figures["steady_spread_max_ms"] = max(spread(traces, start, now(host)), default=math.nan)
    for name, guest in zip(NAMES[1:], traces[1:]):  # which guest the spread comes from (+: ahead of the host)
        guest_errors = sorted(error for _, error in errors(guest, traces[0], start, now(host)))
        figures[f"steady_{name}_error_median_ms"] = guest_errors[len(guest_errors) // 2] if guest_errors else math.nan

    # A stall: the skewed guest's audio loses 700 ms.
    stalled = now(skewed)
    skewed.evaluate("() => { const a = document.getElementById('audio'); a.currentTime = Math.max(0, a.currentTime - 0.7); }")
    time.sleep(settle_s)
    figures["stall_converged_ms"] = _converged(trace(skewed, stalled - 200), trace(host, stalled - 200), stalled, now(host))

    # A track change, heard late by the slow guest.
    changed = now(host)
    host.click("#pb-next")
    time.sleep(settle_s + 1)
    end = now(host)
    slow_trace, host_trace = trace(slow, changed), trace(host, changed)
    next_src = host_trace[-1].src
    slow_next, host_next = [s for s in slow_trace if s.src == next_src], [s for s in host_trace if s.src == next_src]
    figures["latency_converged_ms"] = _converged(slow_next, host_next, changed, end)
    late_errors = [error for _, error in errors(slow_next, host_next, end - 1000, end)]
    figures["latency_error_last_s_p95_ms"] = p95([abs(error) for error in late_errors])
    starts = [_start_of(trace(page, changed), next_src) for page in everyone]
    figures["next_start_spread_ms"] = max(starts) - min(starts)
    figures.update({f"next_start_{name}_ms": start - starts[0] for name, start in zip(NAMES[1:], starts[1:])})

    # The end of a track, decided by the audio: nothing cut, the next one together. The
    # skewed guest is put 100 ms behind (as the engine's own move, not a listener's seek):
    # the rate correction leaves it some 30 ms behind at the end, so the party moves on
    # before its track is over, and it must play that out.
    seek_bar(host, duration_s - 3)
    time.sleep(1.0)
    skewed.evaluate("() => { const a = document.getElementById('audio'); a.ourSeek = true; a.currentTime -= 0.1; }")
    ending = now(host)
    src = host.evaluate(f"() => {TRACK_OF}")
    host.wait_for_function(f"(src) => {TRACK_OF} !== src", arg=src, timeout=15000)
    wait_all_playing(everyone, host)
    time.sleep(2.0)
    traces = [trace(page, ending) for page in everyone]
    next_src = traces[0][-1].src
    figures["end_cut_max_ms"] = max(duration_s * 1000 - last_position(t, src) for t in traces)
    starts = [_start_of(t, next_src) for t in traces]
    figures["end_next_start_spread_ms"] = max(starts) - min(starts)
    figures.update({f"end_next_start_{name}_ms": start - starts[0] for name, start in zip(NAMES[1:], starts[1:])})
    late = now(host)
    time.sleep(1.0)
    figures["after_end_spread_p95_ms"] = p95(spread([trace(page, late) for page in everyone], late, now(host)))
    return figures


def _converged(samples, reference, event, end, bound_ms: float = 50.0) -> float:
    result = converged_after(samples, reference, event, end, bound_ms)
    return math.inf if result is None else result


def _first_move(samples: list[Sample], src: str) -> tuple[Sample, Sample] | None:
    """The first two samples of track ``src`` between which the element started playing
    (moving with the clock; a seek's jump is not a start)."""
    mine = [s for s in samples if s.src == src]
    for before, after in zip(mine, mine[1:]):
        if not after.paused and before.pos + 0.5 < after.pos <= before.pos + 1.5 * (after.t - before.t) + 2:
            return before, after
    return None


def _start_of(samples: list[Sample], src: str) -> float:
    """The common-clock time at which track ``src`` started moving on this page (back-dated
    from the first moving sample by how far it moved)."""
    move = _first_move(samples, src)
    return math.inf if move is None else move[1].t - (move[1].pos - move[0].pos)


def handoff_scenario(open_page, base_url: str, *, album: str, first: str, user: str = "dana") -> dict[str, float]:
    """One user's two devices: the playing one sends its queue to the other, which goes on
    from where the first one's audio stopped; then back, paused, which stays paused.

    ``open_page(username, base_url, init_script, device)``. Returns the skip (ms of music
    neither device played; negative: heard twice) and the paused hand-off's position error.
    """
    tag = f"{int(time.time() * 1000) % 100000}"
    old = open_page(user, base_url, "", f"Desk {tag}")
    new = open_page(user, base_url, "", f"Sofa {tag}")
    play_track(old, album, first)
    time.sleep(2.0)
    old.click("a[data-nav=devices]")
    send = old.locator(f".device-card[data-device='Sofa {tag}'] [data-act=send]")
    send.wait_for()
    start = now(old)
    send.click()
    new.wait_for_function("() => { const a = document.getElementById('audio'); return !a.paused && a.currentTime > 0; }")
    old.wait_for_function("() => document.getElementById('audio').paused")
    time.sleep(1.5)
    old_trace, new_trace = trace(old, start), trace(new, start)
    src = new_trace[-1].src
    stopped_at = max(s.pos for s in old_trace if s.src == src)
    move = _first_move(new_trace, src)
    started_at = move[0].pos if move else math.nan
    figures = {"handoff_skip_ms": started_at - stopped_at}

    # Paused, handed back: the old device takes it paused, at the same position.
    new.click("#pb-play")
    new.wait_for_function("() => document.getElementById('audio').paused")
    time.sleep(0.5)
    paused_at = new.evaluate("() => document.getElementById('audio').currentTime * 1000")
    new.click("a[data-nav=devices]")
    send = new.locator(f".device-card[data-device='Desk {tag}'] [data-act=send]")
    send.wait_for()
    send.click()
    old.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    time.sleep(1.5)
    state = old.evaluate("() => { const a = document.getElementById('audio'); return [a.paused, a.currentTime * 1000]; }")
    figures["paused_handoff_plays"] = float(not state[0])
    figures["paused_handoff_error_ms"] = state[1] - paused_at
    return figures


def solo_scenario(open_page, base_url: str, *, album: str, first: str, duration_s: int, user: str = "carol") -> dict[str, float]:
    """One device on its own: a seek near the end of a track, the track's end and the next
    one's start. Returns what was cut of the end and of the next track's beginning, and the
    silence between the two (negative: they overlapped), in ms. The silence is reckoned from
    the ended track's last sample (its ``ended``), carried forward to its end, and the first
    moving sample of the next, carried back to its position 0, both at rate 1."""
    page = open_page(user, base_url, "")
    play_track(page, album, first)
    seek_bar(page, duration_s - 3)
    time.sleep(0.5)
    start = now(page)
    src = page.evaluate(f"() => {TRACK_OF}")
    page.wait_for_function(f"(src) => {TRACK_OF} !== src", arg=src, timeout=15000)
    time.sleep(1.5)
    samples = trace(page, start)
    next_src = samples[-1].src
    move = _first_move(samples, next_src)
    page.evaluate("() => document.getElementById('pb-play').click()")
    last = max((s for s in samples if s.src == src and not s.paused), key=lambda s: s.pos, default=None)
    silence = math.nan
    if move and last:
        silence = (move[1].t - move[1].pos) - (last.t + (duration_s * 1000 - last.pos))
    return {"solo_end_cut_ms": duration_s * 1000 - last_position(samples, src),
            "solo_next_start_position_ms": move[0].pos if move else math.nan,
            "solo_silence_ms": silence}
