"""Interceptors and the router's edge: auth, permissions, augmentation, registration."""
from __future__ import annotations

import dataclasses

import pytest

from common import interceptors
from common.errors import Forbidden, InvalidPayload, Unauthenticated, UnknownAction
from common.messages import Context, Message
from common.registry import registry
from common.router import execute_safely, prepare

USER = Context(user_id=1, username="alice", via="ws")
STAFF = Context(user_id=2, username="boss", is_staff=True, via="ws")


def test_anonymous_client_is_unauthenticated():
    with pytest.raises(Unauthenticated):
        prepare("system.health.ping", {}, Context(via="ws"))


def test_server_messages_need_no_user():
    message, _ = prepare("system.health.ping", {}, Context(via="server"))
    assert message.context.user_id is None


def test_staff_permission_is_checked():
    with pytest.raises(Forbidden):
        prepare("system.announcement.send", {"text": "hi"}, USER)
    message, spec = prepare("system.announcement.send", {"text": "hi"}, STAFF)
    assert spec.name == "system.announcement.send" and message.payload == {"text": "hi"}


def test_prepare_rewrites_legacy_names_and_validates():
    message, _ = prepare("system:ping", None, USER)
    assert message.action == "system.health.ping" and message.payload == {}
    with pytest.raises(UnknownAction):
        prepare("nope:nope", {}, USER)
    with pytest.raises(InvalidPayload):
        prepare("system.health.ping", {"unexpected": 1}, USER)


def test_an_interceptor_is_a_one_line_registration_and_can_augment_context():
    seen = []

    def stamp_device(message: Message, spec) -> Message:
        seen.append(spec.name)
        return message.with_context(device="kitchen")

    interceptors.edge(stamp_device)
    try:
        message, _ = prepare("system.health.ping", {}, USER)
    finally:
        interceptors.EDGE.remove(stamp_device)
    assert message.context.device == "kitchen"
    assert seen == ["system.health.ping"]


def test_handler_interceptors_run_before_the_handler_and_can_refuse():
    def refuse(message, spec):
        raise Forbidden("not today")

    interceptors.handler(refuse)
    try:
        outcome = execute_safely(Message("system.health.ping", {}, USER))
    finally:
        interceptors.HANDLER.remove(refuse)
    assert outcome == {"ok": False, "error": {"code": "forbidden", "message": "not today"}}


def test_handler_crash_becomes_internal_error_not_an_exception(monkeypatch):
    spec = registry.actions["system.health.ping"]

    def boom(message):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(registry.actions, "system.health.ping", dataclasses.replace(spec, handler=boom))
    outcome = execute_safely(Message("system.health.ping", {}, USER))
    assert outcome["ok"] is False and outcome["error"]["code"] == "internal"
    assert "disk" not in outcome["error"]["message"]  # internals are logged, not leaked


def test_message_round_trips_through_the_wire_form():
    message = Message("system.health.ping", {"a": [1, "b"]}, USER.replace(tracker="t1", expected_version=3))
    assert Message.from_wire(message.to_wire()) == message


def test_wire_context_ignores_unknown_keys():
    wire = Message("system.health.ping", {}, USER).to_wire()
    wire["context"]["type"] = "bus.reply"
    assert Message.from_wire(wire).context == USER
