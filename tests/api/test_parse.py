"""``parse``: each query serializer's fields are made once and shared; nothing of one call
leaks into the next."""
from __future__ import annotations

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from bridge.api.catalogue import AlbumListQuery
from bridge.api.context import parse


def test_calls_do_not_share_their_data_or_errors():
    with pytest.raises(ValidationError) as bad:
        parse(AlbumListQuery, QueryDict("offset=-1&order=nope&genre=99999999999999999999"))
    assert set(bad.value.detail) == {"offset", "order", "genre"}
    assert parse(AlbumListQuery, QueryDict("genre=12&order=year")) == {"offset": 0, "limit": 50, "genre": 12, "order": "year", "descending": False}
    assert parse(AlbumListQuery, QueryDict("genre=Trip Hop")) == {"offset": 0, "limit": 50, "genre": "Trip Hop",
                                                                  "order": "name", "descending": False}
    with pytest.raises(ValidationError) as again:
        parse(AlbumListQuery, QueryDict("limit=0"))
    assert set(again.value.detail) == {"limit"}
