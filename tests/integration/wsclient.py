"""A real WebSocket client (the ``websockets`` library) speaking the envelope."""
from __future__ import annotations

import asyncio
import itertools
import json

import websockets


class WsClient:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.connection = None
        self.welcome: dict | None = None

    async def __aenter__(self) -> "WsClient":
        self.connection = await websockets.connect(self.url, additional_headers={"Authorization": f"Token {self.token}"})
        self.welcome = json.loads(await asyncio.wait_for(self.connection.recv(), 10))
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

    async def event(self, name: str, timeout: float = 10, **match) -> dict:
        """The first event called ``name`` whose payload has the ``match`` values."""

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
