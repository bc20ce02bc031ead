"""XML answers checked against the Subsonic schema extended with OpenSubsonic's additions.

The folder is ``SUBSONIC_SPECS`` (default ``../shared/specs/subsonic/`` beside the
repository); without it ``validate`` skips the test, saying so.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XSD_NAME = "subsonic-rest-api-1.16.1+opensubsonic.xsd"


@functools.cache
def _schema():
    from lxml import etree

    folder = Path(os.environ.get("SUBSONIC_SPECS") or ROOT.parent / "shared" / "specs" / "subsonic")
    path = folder / XSD_NAME
    if not path.is_file():
        return None
    return etree.XMLSchema(etree.parse(str(path)))


def validate(body: bytes) -> None:
    """Fail unless the XML ``body`` is valid (skip when the schema folder is absent)."""
    from lxml import etree

    schema = _schema()
    if schema is None:
        pytest.skip(f"the Subsonic schema folder (SUBSONIC_SPECS, {XSD_NAME}) is absent")
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log.last_error
