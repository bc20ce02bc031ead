"""Explicit schema checks for tests that call them by hand; the rules are ``schema``'s (every
answer the suite receives is also checked there automatically). Without the schema folder
(``SUBSONIC_SPECS``) these skip the test, saying so."""
from __future__ import annotations

import pytest

from . import schema


def validate(body: bytes) -> None:
    """Fail unless the XML ``body`` is within the extended XSD."""
    if schema.SPECS is None:
        pytest.skip("the Subsonic schema folder is absent: set SUBSONIC_SPECS to it")
    schema.validate_xml(body)


def validate_json(method: str, body: dict) -> None:
    """Fail unless the JSON ``body`` of ``method`` is within OpenSubsonic's schema."""
    if schema.SPECS is None:
        pytest.skip("the Subsonic schema folder is absent: set SUBSONIC_SPECS to it")
    schema.validate_json(method, body)
