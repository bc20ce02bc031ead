import json
import time

import pytest

from common.envelope import encode, error_frame, event_frame, reply_frame
from common.errors import ERROR_CODES, ERRORS, BusError, Internal, NotFound, error_from_dict

CATALOGUE = (
    "bad_request",
    "unknown_action",
    "invalid_payload",
    "unauthenticated",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "too_large",
    "timeout",
    "unavailable",
    "internal",
)


def test_the_catalogue_has_exactly_the_stable_codes():
    assert ERROR_CODES == CATALOGUE


@pytest.mark.parametrize("code", CATALOGUE)
def test_every_error_has_a_message_that_says_what_to_do(code):
    error = ERRORS[code]()
    assert isinstance(error, BusError)
    assert error.as_dict() == {"code": code, "message": error.default_message}
    assert error.default_message.endswith(".")
    assert error_from_dict(error.as_dict()).code == code


def test_unknown_code_from_the_bus_becomes_internal():
    assert isinstance(error_from_dict({"code": "weird", "message": "x"}), Internal)


def test_frames_carry_the_servers_time():
    before = time.time_ns() // 1_000_000
    frames = reply_frame(1, {"a": 1}), error_frame("x", NotFound("No album 3.")), event_frame("a.b.c", {"k": "v"})
    after = time.time_ns() // 1_000_000
    for frame in frames:
        assert before <= frame.pop("time") <= after
    assert frames[0] == {"id": 1, "ok": True, "result": {"a": 1}}
    assert frames[1] == {"id": "x", "ok": False, "error": {"code": "not_found", "message": "No album 3."}}
    assert frames[2] == {"event": "a.b.c", "payload": {"k": "v"}}


def test_encode_is_compact_json_and_refuses_unsafe_values():
    assert json.loads(encode({"a": "é", "b": [1, 2]})) == {"a": "é", "b": [1, 2]}
    with pytest.raises(ValueError):
        encode({"x": float("nan")})
    with pytest.raises(TypeError):
        encode({"x": object()})
