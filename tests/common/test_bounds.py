"""``common.bounds``: the one range of ids and counts, and reading numbers from text."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from common import bounds


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("42", 42), ("-7", -7), ("007", 7), (str(2**53 - 1), 2**53 - 1), ("0" * 40 + "5", 5), ("0" * 5000 + "5", 5), ("-0", 0),
    (str(2**53), None), ("-" + str(2**53), None), ("9" * 30, None), ("9" * 5000, None),
    ("²", None), ("tr-²", None), ("٣", None), ("𝟗", None), ("1e3", None), ("0x10", None), (" 1", None), ("1 ", None),
    ("+1", None), ("1_000", None), ("", None), ("-", None), ("--1", None), ("1.0", None),
])
def test_parse_int_reads_ascii_digits_within_the_bound(text, expected):
    assert bounds.parse_int(text) == expected


def test_parse_int_applies_the_callers_bounds():
    assert bounds.parse_int("0", minimum=1) is None
    assert bounds.parse_int("5", minimum=1, maximum=5) == 5
    assert bounds.parse_int("6", maximum=5) is None


@pytest.mark.parametrize("kind, good, bad", [
    (bounds.Id, [1, 2**53 - 1], [0, -1, 2**53, 2**63, 2**70, True, 1.0, "1"]),
    (bounds.Count, [0, 2**53 - 1], [-1, 2**53, 2**70, False, "0"]),
])
def test_id_and_count_types(kind, good, bad):
    adapter = TypeAdapter(kind)
    for value in good:
        assert adapter.validate_python(value, strict=True) == value
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value, strict=True)


def test_tracker_ids_are_uuids_read_in_lower_case():
    adapter = TypeAdapter(bounds.TrackerId)
    upper = "0A1B2C3D-0000-4000-8000-00000000000F"
    assert adapter.validate_python(upper) == upper.lower()
    assert bounds.is_tracker_id(upper)
    for bad in ["a b", "é", "", "0" * 32, "0" * 64, upper + " ", upper[:-1] + "g", 5, None]:
        assert not bounds.is_tracker_id(bad)
        with pytest.raises(ValidationError):
            adapter.validate_python(bad, strict=True)
