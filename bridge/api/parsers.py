"""The REST API's JSON body parser: DRF's, with nesting bounded.

Python's JSON decoder recurses once per ``[`` or ``{``: a body of 50,000 ``[`` raised
``RecursionError``, which DRF's parser does not catch (an HTML 500, before any view or
authentication ran). Here that, and any body nested deeper than ``MAX_DEPTH`` (which no
endpoint takes, and which later code walking the data could trip over), is a ``ParseError``:
``400 {"error": {"code": "bad_request", ...}}``. Every view uses this parser
(``DEFAULT_PARSER_CLASSES``, ``ApiView``, the token endpoint).
"""
from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

_CONTAINERS = frozenset({list, dict})  # what json.loads builds nested values with
MAX_DEPTH = 32  # the deepest body an endpoint takes is 3 levels (an action's payload's lists)


def depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and objects in ``data`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(data, 1)] if isinstance(data, (list, dict)) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        items = value.values() if isinstance(value, dict) else value
        if _CONTAINERS.isdisjoint(map(type, items)):  # a flat list or object (most are): C speed
            continue
        stack.extend((item, depth + 1) for item in items if type(item) in _CONTAINERS)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
        else:
            if not depth_exceeds(data, MAX_DEPTH):
                return data
        raise ParseError(f"JSON parse error - the body nests lists and objects more than {MAX_DEPTH} deep.")
