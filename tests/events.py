"""Waiting for a particular event, shared by the test WebSocket clients."""
from __future__ import annotations


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
