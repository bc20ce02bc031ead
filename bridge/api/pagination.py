"""Paging for the REST lists: ``?offset=&limit=`` in, the selectors' page shape out.

A page is ``{"items": [...], "total": N, "offset": o, "limit": l}``, as every list
selector returns it (``library.selectors``). Out-of-range values are refused with
``invalid_payload`` rather than clamped silently, as the WebSocket actions refuse them.
"""
from __future__ import annotations

from rest_framework import serializers

from library import search as search_index
from library.selectors import DEFAULT_LIMIT, MAX_LIMIT

# Far past any real catalogue, and small enough that offset + limit fits every database.
MAX_OFFSET = 1_000_000_000


class PagingQuery(serializers.Serializer):
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0, help_text="rows to skip")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT,
                                     help_text=f"rows per page (1-{MAX_LIMIT})")


_pages: dict[str, type[serializers.Serializer]] = {}


def page_of(item: type[serializers.Serializer], *, search: bool = False) -> type[serializers.Serializer]:
    """The schema of a page of ``item`` rows (component ``<Item>Page``, or ``<Item>SearchPage``
    with ``total_exact``: search totals count up to a limit)."""
    name = item.__name__.removesuffix("Serializer") + ("SearchPageSerializer" if search else "PageSerializer")
    if name not in _pages:
        counted = f", counted up to {search_index.COUNT_LIMIT}" if search else ", on every page"
        fields = {
            "items": item(many=True),
            "total": serializers.IntegerField(help_text="rows matching" + counted),
            "offset": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
            "__module__": __name__,
        }
        if search:
            fields["total_exact"] = serializers.BooleanField(
                help_text=f"false when {search_index.COUNT_LIMIT} or more match: total is then a lower bound")
        _pages[name] = type(name, (serializers.Serializer,), fields)
    return _pages[name]
