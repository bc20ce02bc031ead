"""The registry: declarations, lookups, payload validation, emitted-event checks."""
from __future__ import annotations

import pytest
from pydantic import Field

from common.errors import InvalidPayload, UnknownAction
from common.registry import Empty, Permission, Registry, RunsOn, Schema, registry


class Volume(Schema):
    level: int = Field(ge=0, le=100)
    label: str | None = None


def make_registry() -> Registry:
    reg = Registry()

    @reg.action("player.volume.set", Volume, doc="Set the volume.")
    def handler(message):
        return message.payload

    reg.event("player.volume.changed", Volume, doc="Volume changed.", audience="owner")
    return reg


def test_declared_action_has_its_metadata():
    spec = make_registry().get_action("player.volume.set")
    assert spec.payload is Volume
    assert spec.permission is Permission.AUTHENTICATED
    assert spec.runs_on is RunsOn.WORKER
    assert spec.doc == "Set the volume."
    assert spec.client_callable


def test_unknown_name_raises_unknown_action():
    with pytest.raises(UnknownAction) as exc:
        make_registry().get_action("player.volume.nope")
    assert exc.value.code == "unknown_action"


@pytest.mark.parametrize("name", ["ping", "Player.volume.set", "a.b.c.d", "a.", "system:ping", "a..b", "a.b.c-d"])
def test_malformed_names_cannot_be_declared(name):
    with pytest.raises(ValueError):
        Registry().action(name, Empty, doc="x")(lambda m: None)


def test_a_name_is_declared_once():
    reg = make_registry()
    with pytest.raises(ValueError):
        reg.action("player.volume.set", Empty, doc="again")(lambda m: None)
    with pytest.raises(ValueError):
        reg.event("player.volume.set", Empty, doc="again", audience="x")


VALIDATION_ROWS = [
    ({"level": 5}, {"level": 5}),
    ({"level": 0, "label": "quiet"}, {"level": 0, "label": "quiet"}),
    ({"level": 100, "label": None}, {"level": 100, "label": None}),
]
REJECTED_ROWS = [
    ({}, "level"),
    ({"level": "5"}, "level"),  # strict: no string-to-int coercion
    ({"level": 5.0}, "level"),
    ({"level": True}, "level"),
    ({"level": 101}, "level"),
    ({"level": -1}, "level"),
    ({"level": 5, "extra": 1}, "extra"),
    ([], "payload"),
]


@pytest.mark.parametrize("raw,expected", VALIDATION_ROWS)
def test_valid_payloads_come_back_as_plain_dicts(raw, expected):
    reg = make_registry()
    assert reg.validate_payload(reg.get_action("player.volume.set"), raw) == expected


@pytest.mark.parametrize("raw,field", REJECTED_ROWS)
def test_invalid_payloads_name_the_field(raw, field):
    reg = make_registry()
    with pytest.raises(InvalidPayload) as exc:
        reg.validate_payload(reg.get_action("player.volume.set"), raw)
    assert exc.value.code == "invalid_payload"
    assert field in exc.value.message


def test_emitted_events_are_checked_against_their_schema():
    reg = make_registry()
    assert reg.validate_event("player.volume.changed", {"level": 3}) == {"level": 3}
    with pytest.raises(InvalidPayload):
        reg.validate_event("player.volume.changed", {"level": "loud"})
    with pytest.raises(LookupError):
        reg.validate_event("player.volume.undeclared", {})


def test_project_registry_names_follow_the_convention():
    for name, spec in registry.actions.items():
        assert spec.handler is not None, name
        assert spec.doc, name
    for name, spec in registry.events.items():
        assert spec.doc and spec.audience, name
