"""WebSocket clients speaking the envelope, for the tests and the benchmarks.

- ``connect`` and ``call``: a ``websockets`` connection signed in with an API token, and one
  request answered (events in between dropped): what the benchmarks drive;
- ``WsClient``: the same connection for tests, keeping the events it meets (``event``);
- ``RawWebSocket``: a bare client on a plain socket, for what well-behaved libraries won't do;
- ``frame``: one client frame, also written by the fan-out benchmark's minimal client.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, length: int | None = None) -> bytes:
    """One WebSocket frame as a client sends it (masked unless told); ``length`` may lie."""
    length = len(payload) if length is None else length
    header = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header += bytes([mask_bit | length])
    elif length < 65536:
        header += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        header += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        header += key
    return header + payload


async def connect(url: str, token: str, **options):
    """A ``websockets`` connection signed in with ``token`` (``options`` go to ``websockets.connect``),
    and the welcome frame."""
    import websockets

    connection = await websockets.connect(url, additional_headers={"Authorization": f"Token {token}"}, **options)
    welcome = json.loads(await asyncio.wait_for(connection.recv(), 10))
    return connection, welcome


async def call(connection, request_id, action: str, payload: dict) -> dict:
    """Send one request; its reply (the frames before it are dropped)."""
    await connection.send(json.dumps({"id": request_id, "action": action, "payload": payload}))
    while True:
        reply = json.loads(await connection.recv())
        if reply.get("id") == request_id:
            return reply


class EventWaiter:
    """Mixin: needs ``self.events`` (frames set aside) and ``async receive(timeout)``."""

    events: list[dict]
    default_timeout: float = 5

    async def event(self, name: str, timeout: float | None = None, **match) -> dict:
        """The first event called ``name`` whose payload has the ``match`` values; others are kept."""
        timeout = self.default_timeout if timeout is None else timeout

        def wanted(frame: dict) -> bool:
            return frame.get("event") == name and all(frame["payload"].get(k) == v for k, v in match.items())

        for index, frame in enumerate(self.events):
            if wanted(frame):
                return self.events.pop(index)
        while True:
            frame = await self.receive(timeout)
            if wanted(frame):
                return frame
            self.events.append(frame)


class WsClient(EventWaiter):
    default_timeout = 10

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.connection = None
        self.welcome: dict | None = None

    async def __aenter__(self) -> "WsClient":
        self.connection, self.welcome = await connect(self.url, self.token)
        assert self.welcome["event"] == "system.session.welcome", self.welcome
        return self

    async def __aexit__(self, *exc) -> None:
        await self.connection.close()

    async def receive(self, timeout: float = 10) -> dict:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def request(self, action: str, payload: dict | None = None, timeout: float = 10) -> dict:
        request_id = next(self.ids)
        await self.connection.send(json.dumps({"id": request_id, "action": action, "payload": payload or {}}))
        while True:
            frame = await self.receive(timeout)
            if "event" in frame:
                self.events.append(frame)
            elif frame.get("id") == request_id:
                return frame


class RawWebSocket:
    """A bare WebSocket client on a plain socket, for what well-behaved libraries won't do.

    It never answers pings unless asked (a dead or frozen client), can shrink its receive
    buffer and stop reading (a slow client), and sends any frame at all (unmasked, binary,
    invalid UTF-8, wrong opcodes, a lying length).
    """

    def __init__(self, host: str, port: int, path: str = "/ws/", headers: dict | None = None, rcvbuf: int | None = None) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin1"))
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        self.close_code: int | None = None

    def send_frame(self, opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, length: int | None = None) -> None:
        self.sock.sendall(frame(opcode, payload, fin=fin, mask=mask, length=length))

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode("utf-8", "surrogatepass"))

    def send_json(self, value) -> None:
        self.send_text(json.dumps(value))

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_frame(self, timeout: float = 10) -> tuple[int, bytes]:
        """The next frame (opcode, payload); a close frame sets ``close_code``."""
        self.sock.settimeout(timeout)
        first, second = self._read(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        payload = self._read(length)
        if opcode == 0x8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        return opcode, payload

    def recv_json(self, timeout: float = 10, *, answer_pings: bool = True) -> dict:
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x9 and answer_pings:
                self.send_frame(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError(f"closed with {self.close_code}")

    def request(self, request_id, action: str, payload: dict | None = None, timeout: float = 10) -> dict:
        self.send_json({"id": request_id, "action": action, "payload": payload or {}})
        while True:
            frame = self.recv_json(timeout)
            if frame.get("id") == request_id and "event" not in frame:
                return frame

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
