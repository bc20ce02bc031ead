"""A Subsonic request's parameters: query string and form body together, repeated keys as lists.

Numbers are ASCII digits within ``common.bounds`` (2**53 - 1 either way); anything else is
error 10 naming the parameter, like a missing one.
"""
from __future__ import annotations

from django.http import QueryDict

from common.bounds import MAX_INT, parse_int

from .responses import InvalidParameter, MissingParameter

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Params:
    """Typed access to the parameters; a missing required or a malformed one is error 10."""

    def __init__(self, *sources: QueryDict) -> None:
        self._values: dict[str, list[str]] = {}
        for source in sources:
            for key in source:
                self._values.setdefault(key, []).extend(source.getlist(key))

    def __contains__(self, name: str) -> bool:
        return bool(self._values.get(name))

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return [value for value in self._values.get(name, []) if value != ""]

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise MissingParameter(name)
        return value

    def int(self, name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None, required: bool = False) -> int | None:
        raw = self.required(name) if required else self.get(name)
        if raw is None or raw == "":
            return default
        value = parse_int(raw)
        if value is None:
            raise InvalidParameter(name, f"must be a whole number from {-MAX_INT} to {MAX_INT}, got {raw[:40]!r}.")
        if minimum is not None:
            value = max(minimum, value)
        if maximum is not None:
            value = min(maximum, value)
        return value

    def ints(self, name: str) -> list[int]:
        values = [parse_int(value) for value in self.getlist(name)]
        if None in values:
            raise InvalidParameter(name, f"must be whole numbers from {-MAX_INT} to {MAX_INT}.")
        return values

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidParameter(name, f"must be true or false, got {raw[:40]!r}.")
