"""The range of every id, count and offset a client may send, on every interface.

Numbers a client sends come back in JSON that browsers read, and are stored in or compared
with 64-bit database columns. JavaScript reads integers exactly only up to 2**53 - 1
(``Number.MAX_SAFE_INTEGER``), which also fits both databases' signed 64-bit integers, so
that is the one bound: ``MAX_INT``. An id past it is refused at the edge (never stored,
never looked up), in each interface's own format:

- WebSocket payload schemas use the pydantic types below (``Id``, ``Count``, ``TrackerId``);
- the REST API's serializers use ``MAX_INT`` as ``max_value`` (ids in URL paths, 1-18
  digits, fit the databases and simply find nothing past the last row);
- Subsonic parameters are read with ``parse_int`` (``bridge/subsonic/params.py``, ``ids.py``).

Text is read as a number only when it is ASCII digits (``str.isdigit`` also accepts
``'²'``, which ``int`` refuses, and ``int`` accepts ``'٣'``), with a length cap before
``int`` runs.
"""
from __future__ import annotations

import re
from typing import Annotated, TypeAlias

from pydantic import Field, StringConstraints

MAX_INT = 2**53 - 1  # the largest integer JSON carries exactly to a browser; fits signed 64-bit
MAX_DIGITS = len(str(MAX_INT))

Id: TypeAlias = Annotated[int, Field(ge=1, le=MAX_INT)]  # a row's id
Count: TypeAlias = Annotated[int, Field(ge=0, le=MAX_INT)]  # counts, offsets, versions

# A tracker's id: a UUID in its usual text form, any case; validated ids are lower case, the
# form ``str(uuid)`` gives, as a tracker's channel-layer group name is built from it.
TRACKER_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TrackerId: TypeAlias = Annotated[str, StringConstraints(pattern=TRACKER_ID_PATTERN, to_lower=True)]
_TRACKER_ID = re.compile(TRACKER_ID_PATTERN)
# A play's id: a UUID the playing client draws when a track starts, so that recording the
# play again (a retry, a reconnect) records it once.
PlayId: TypeAlias = Annotated[str, StringConstraints(pattern=TRACKER_ID_PATTERN, to_lower=True)]


def is_tracker_id(value: object) -> bool:
    """Whether ``value`` is a tracker id string (for the places that check one by hand)."""
    return isinstance(value, str) and _TRACKER_ID.fullmatch(value) is not None


def parse_int(text: str, *, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int | None:
    """The integer ``text`` spells (ASCII digits, optional leading ``-``) within the bounds, else None."""
    digits = text[1:] if text.startswith("-") else text
    significant = digits.lstrip("0")
    if not (digits.isascii() and digits.isdigit()) or len(significant) > MAX_DIGITS:
        return None
    value = int(significant or "0") * (-1 if text.startswith("-") else 1)
    return value if minimum <= value <= maximum else None
