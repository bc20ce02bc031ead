"""Many Opus streams played at real time at once, as players do (``bench transcode``).

One thread drives every stream through ``selectors``, so hundreds of streams cost the
measuring side little and the same for both kinds of source: the bridge over HTTP, or a
bare ffmpeg's pipe. Each stream is a player:

- it reads ahead as fast as the data comes, up to ``read_ahead`` seconds of audio beyond
  what it has played, then reads again only as playback consumes that;
- it starts playing once it holds one second of audio, and plays at real time from then;
- it *holds real time* if it never runs dry after that.

Audio is counted in seconds, not bytes: ``OggClock`` adds up the Opus packets as they
complete, so a variable bitrate or container overhead cannot make a stream look ahead of
what it carries. An HTTP body in chunked
transfer coding is unwrapped first (``Dechunk``).
"""
from __future__ import annotations

import os
import selectors
import socket
import subprocess
import time
from dataclasses import dataclass, field

START_SECONDS = 1.0  # audio held before playback starts
TICK = 0.01  # how often playback is advanced and checked
READ_BYTES = 16384  # one read: about a second of Opus 128k, so read-ahead overshoots little


class OggClock:
    """Seconds of Opus audio in an Ogg stream fed in pieces. A page may carry seconds of
    audio, and a player decodes each packet as soon as it has come, so packets are counted
    as they complete (their length from the Opus TOC byte, RFC 6716 3.1), less the pre-skip
    that the ``OpusHead`` packet names."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.lacing: bytes | None = None  # the current page's segment sizes, None between pages
        self.segment = 0  # the next segment of the page
        self.packet = bytearray()  # a packet still coming (it may span pages)
        self.samples = 0  # at 48 kHz
        self.pre_skip = 0

    @property
    def seconds(self) -> float:
        return max(0, self.samples - self.pre_skip) / 48000

    def feed(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            if self.lacing is None:
                start = buffer.find(b"OggS")
                if start < 0:
                    del buffer[:max(0, len(buffer) - 3)]  # a capture pattern may be split
                    return
                del buffer[:start]
                if len(buffer) < 27 or len(buffer) < 27 + buffer[26]:
                    return
                self.lacing = bytes(buffer[27:27 + buffer[26]])
                self.segment = 0
                del buffer[:27 + len(self.lacing)]
            if self.segment == len(self.lacing):
                self.lacing = None
                continue
            size = self.lacing[self.segment]
            if len(buffer) < size:
                return
            self.packet += buffer[:size]
            del buffer[:size]
            self.segment += 1
            if size < 255:  # the packet ends here
                self._packet(bytes(self.packet))
                self.packet.clear()

    def _packet(self, packet: bytes) -> None:
        if packet.startswith(b"OpusHead"):
            self.pre_skip = int.from_bytes(packet[10:12], "little")
        elif packet and not packet.startswith(b"OpusTags"):
            self.samples += opus_samples(packet)


def opus_samples(packet: bytes) -> int:
    """48 kHz samples in one Opus packet, from its TOC byte."""
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:  # hybrid: 10, 20 ms
        frame = (480, 960)[config % 2]
    else:  # CELT: 2.5, 5, 10, 20 ms
        frame = (120, 240, 480, 960)[config % 4]
    code = toc & 3
    frames = 1 if code == 0 else 2 if code < 3 else (packet[1] & 0x3F if len(packet) > 1 else 0)
    return frame * frames


class Dechunk:
    """HTTP/1.1 chunked transfer coding, undone on a body fed in pieces."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.left = 0  # data bytes left in this chunk; -1 while its closing CRLF is due
        self.done = False

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        pending = self.pending
        pending += data
        while pending and not self.done:
            if self.left > 0:
                take = pending[:self.left]
                out += take
                del pending[:len(take)]
                self.left -= len(take)
                if self.left == 0:
                    self.left = -1
            elif self.left < 0:
                if len(pending) < 2:
                    break
                del pending[:2]
                self.left = 0
            else:
                line_end = pending.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(bytes(pending[:line_end]).split(b";")[0], 16)
                del pending[:line_end + 2]
                if size == 0:
                    self.done = True
                self.left = size
        return bytes(out)


@dataclass
class Stream:
    """One player: where its bytes come from, and what it has heard and played."""

    started: float
    fd: int
    process: subprocess.Popen | None = None
    sock: socket.socket | None = None
    head: bytearray | None = None  # the HTTP response head until it is complete
    dechunk: Dechunk | None = None
    clock: OggClock = field(default_factory=OggClock)
    playing_at: float | None = None
    ended: bool = False  # the source ended (the whole file was read) or failed
    failed: str = ""
    reading: bool = True
    shortfall: float = 0.0  # the longest it was found dry, seconds

    def take(self, data: bytes) -> None:
        if self.head is not None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, data = bytes(self.head).split(b"\r\n\r\n", 1)
            self.head = None
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                self.failed = head.split(b"\r\n", 1)[0].decode(errors="replace")
                self.ended = True
                return
            if b"transfer-encoding: chunked" in head.lower():
                self.dechunk = Dechunk()
        if self.dechunk is not None:
            data = self.dechunk.feed(data)
        self.clock.feed(data)

    def ahead(self, now: float) -> float:
        """Audio held beyond what has been played, seconds (negative: dry)."""
        played = now - self.playing_at if self.playing_at is not None else 0.0
        return self.clock.seconds - played

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
        if self.sock is not None:
            self.sock.close()


@dataclass
class Outcome:
    held: int  # streams that started and never ran dry
    started: int  # streams that started playing at all
    worst_shortfall: float  # seconds
    start_p95: float  # seconds from request to playback, over the streams that started
    failures: list[str]


def play(open_stream, count: int, seconds: float, read_ahead: float, arrivals: float = 0) -> Outcome:
    """Open ``count`` streams (``open_stream(index) -> Stream``), ``arrivals`` a second (0:
    all at once, as fast as they open), and play until the last one has played for
    ``seconds``. A stream that ends early (the whole file was read) keeps playing what it
    holds; one that fails did not hold."""
    selector = selectors.DefaultSelector()
    streams: list[Stream] = []
    try:
        begun = time.perf_counter()
        deadline = float("inf")
        while (now := time.perf_counter()) < deadline:
            while len(streams) < count and (not arrivals or now - begun >= len(streams) / arrivals):
                stream = open_stream(len(streams))
                os.set_blocking(stream.fd, False)
                selector.register(stream.fd, selectors.EVENT_READ, stream)
                streams.append(stream)
                now = time.perf_counter()
                if len(streams) == count:
                    deadline = now + seconds
            for key, _ in selector.select(TICK):  # epoll: waits out the tick even with nothing registered
                stream = key.data
                try:
                    data = os.read(stream.fd, READ_BYTES)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    data, stream.failed = b"", str(exc)
                if data:
                    stream.take(data)
                if not data or stream.ended:
                    stream.ended = True
                    selector.unregister(stream.fd)
                    stream.reading = False
            now = time.perf_counter()
            for stream in streams:
                if stream.playing_at is None:
                    if stream.clock.seconds >= START_SECONDS:
                        stream.playing_at = now
                    continue
                ahead = stream.ahead(now)
                if ahead < 0:
                    stream.shortfall = max(stream.shortfall, -ahead)
                if stream.ended:
                    continue
                if stream.reading and ahead > read_ahead:
                    selector.unregister(stream.fd)
                    stream.reading = False
                elif not stream.reading and ahead <= read_ahead:
                    selector.register(stream.fd, selectors.EVENT_READ, stream)
                    stream.reading = True
    finally:
        for stream in streams:
            stream.close()
        selector.close()
    started = [s for s in streams if s.playing_at is not None and not s.failed]
    starts = sorted(s.playing_at - s.started for s in started)
    return Outcome(
        held=sum(1 for s in started if s.shortfall == 0),
        started=len(started),
        worst_shortfall=max((s.shortfall for s in started), default=0.0),
        start_p95=starts[min(len(starts) - 1, round(0.95 * (len(starts) - 1)))] if starts else float("inf"),
        failures=[s.failed for s in streams if s.failed],
    )


def pipe_stream(command: list[str]) -> Stream:
    """A bare ffmpeg (or any command) writing to a pipe."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return Stream(started=started, fd=process.stdout.fileno(), process=process)


def http_stream(port: int, path: str, token: str) -> Stream:
    """A GET on a new connection; the response head is checked as it comes."""
    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
                 f"Connection: close\r\n\r\n".encode())
    return Stream(started=started, fd=sock.fileno(), sock=sock, head=bytearray())
