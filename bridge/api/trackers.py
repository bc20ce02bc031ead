"""REST views of trackers: the caller's visible trackers, one tracker's state, and actions.

``POST trackers/{id}/actions/`` takes ``{"action", "payload"?, "expected_version"?}`` and
goes through the same router as a WebSocket request: ``common.router.prepare`` (legacy
names, registry lookup, payload schema, edge interceptors: authentication and the action's
permission), then ``common.router.execute`` (handler interceptors: the target tracker is
loaded and the caller's right to act on it checked; then the handler). Only actions that
target a tracker are taken here; the tracker is the one in the URL.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from common.bounds import is_tracker_id
from common.errors import BadRequest, InvalidPayload, NotFound
from common.legacy import rewrite
from common.registry import registry
from common.router import TRACKER_FIELDS, execute, prepare
from tracker import services

from .context import MAX_ID, ApiView, context_for, errors, parse

TAG = ["trackers"]


class TrackerSerializer(serializers.Serializer):
    tracker = serializers.CharField(help_text="the tracker's id")
    kind = serializers.CharField(help_text="player, party or library.scan")
    version = serializers.IntegerField(help_text="bumped by every applied action")
    state = serializers.DictField(help_text="the kind's state (see the protocol document)")


class VisibleTrackerSerializer(TrackerSerializer):
    key = serializers.CharField(help_text="the device name of a player, the library id of a scan")
    owner = serializers.IntegerField(allow_null=True, help_text="user id; null for shared trackers")
    mine = serializers.BooleanField()


class TrackerListQuery(serializers.Serializer):
    kind = serializers.CharField(max_length=32, required=False, help_text="only trackers of this kind")


class ActionRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=100, help_text="a tracker action, e.g. player.playback.pause")
    payload = serializers.DictField(required=False, help_text="the action's payload (without tracker)")
    expected_version = serializers.IntegerField(min_value=0, max_value=MAX_ID, required=False,
                                                help_text="refuse (409) unless the tracker is at this version")


class ActionAppliedSerializer(serializers.Serializer):
    tracker = serializers.CharField()
    version = serializers.IntegerField()
    changes = serializers.DictField(help_text="top-level state keys the action changed, with their new values")


class TrackerVersionSerializer(serializers.Serializer):
    tracker = serializers.CharField()
    version = serializers.IntegerField()


class TransferResultSerializer(serializers.Serializer):
    source = TrackerVersionSerializer()
    target = TrackerVersionSerializer()


ACTION_RESULT = PolymorphicProxySerializer(
    component_name="ActionResult", serializers=[ActionAppliedSerializer, TransferResultSerializer],
    resource_type_field_name=None,
)


class TrackerListView(ApiView):
    """The trackers you can see, each with its state and version."""

    @extend_schema(operation_id="trackers_list", tags=TAG, parameters=[TrackerListQuery],
                   responses={200: VisibleTrackerSerializer(many=True), **errors(400)},
                   summary="The trackers you can see: your devices, devices you control, your parties, scans")
    def get(self, request):
        query = parse(TrackerListQuery, request.query_params)
        return Response(services.list_trackers(context_for(request), query.get("kind")))


class TrackerDetailView(ApiView):
    """One tracker's state; 403 unless you may see it (owner, controller, party member; scans: everyone)."""

    @extend_schema(operation_id="trackers_get", tags=TAG, responses={200: TrackerSerializer, **errors(403, 404)},
                   summary="A tracker's current state and version")
    def get(self, request, tracker_id: str):
        return Response(services.get_state(context_for(request), tracker_id))


class TrackerActionView(ApiView):
    """A tracker action (e.g. `player.playback.pause`), validated and permission-checked exactly as over the WebSocket; `expected_version` makes it conditional (409 when the tracker moved on)."""

    @extend_schema(
        operation_id="trackers_act", tags=TAG, request=ActionRequestSerializer,
        responses={
            200: OpenApiResponse(ACTION_RESULT, description=(
                "the new version and what changed (player.queue.transfer answers {source, target})")),
            **errors(400, 403, 404, 409),
        },
        summary="Apply an action to a tracker, with the same checks as over the WebSocket",
    )
    def post(self, request, tracker_id: str):
        if not is_tracker_id(tracker_id):
            raise NotFound(f"No tracker {tracker_id[:64]!r}.")
        body = parse(ActionRequestSerializer, request.data)
        spec = registry.get_action(rewrite(body["action"]))  # unknown_action (404) when not declared
        if not spec.targets_tracker:
            raise BadRequest(f"{spec.name} does not act on a tracker; send it over the WebSocket.")
        payload = dict(body.get("payload") or {})
        if any(field in payload for field in TRACKER_FIELDS):
            raise InvalidPayload("The tracker is the one in the URL; send expected_version beside the payload.")
        payload["tracker"] = tracker_id
        if "expected_version" in body:
            payload["expected_version"] = body["expected_version"]
        message, _ = prepare(body["action"], payload, context_for(request))
        return Response(execute(message))
