"""Trackers: live shared state, changed only by actions through a pure reducer.

A ``Tracker`` row holds the current state and version; ``TrackerAction`` is the
append-only log, written in the same transaction. The log may be compacted: the state at
``base_version`` is kept in ``base_state`` and the actions after it stay in the log, so
``base_state`` + the log always replays to ``state``.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# Bumped when the stored shape of an action changes; upgrade steps live in tracker/store.py.
ACTION_SCHEMA_VERSION = 1


class Tracker(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=200, help_text="identifies the tracker within its kind and owner")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="trackers")
    controllers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="controlled_trackers")
    state = models.JSONField(default=dict)
    version = models.PositiveBigIntegerField(default=0)
    base_state = models.JSONField(default=dict, help_text="state at base_version (log compaction)")
    base_version = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "owner", "key"], name="tracker_unique_owned"),
            models.UniqueConstraint(fields=["kind", "key"], condition=Q(owner__isnull=True), name="tracker_unique_shared"),
        ]
        indexes = [models.Index(fields=["owner", "kind"]), models.Index(fields=["kind", "updated"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class TrackerAction(models.Model):
    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="actions")
    version = models.PositiveBigIntegerField()
    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, help_text="top-level state keys this action changed, with new values")
    at_ms = models.BigIntegerField(help_text="server time stamped into the action (epoch ms)")
    actor = models.IntegerField(null=True, blank=True, help_text="user id; empty when the server acted")
    seed = models.BigIntegerField(default=0)
    context = models.JSONField(default=dict)
    origin = models.CharField(max_length=100, default="", help_text="host:pid of the process that committed it")
    schema_version = models.PositiveSmallIntegerField(default=ACTION_SCHEMA_VERSION)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tracker", "version"], name="tracker_action_unique_version")]
        ordering = ["tracker", "version"]

    def __str__(self) -> str:
        return f"{self.tracker_id} v{self.version} {self.name}"
