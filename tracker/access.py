"""Who may read a tracker changed: tell the affected users' open connections.

Read access changes when

- a controller is removed from a device (any way: ``tracker.controllers.remove``, the
  admin, a ``clear()``): the ``m2m_changed`` signal below;
- a member leaves a party, or the party ends: ``store.dispatch``, from the reducer's
  before and after states (``permissions.lost_readers``);
- a user is deactivated, made or no longer made staff, or deleted: the User signals below.

Each change sends, after commit, an internal ``BUS_ACCESS`` message to the user's group
(``user.<id>``). Every connection of that user, on every bridge, then reloads the user
(``recheck``) and rechecks the trackers it follows: it leaves the group of each tracker it
may no longer read and tells the client (``tracker.subscription.revoked``), follows the
user's staff flag, and closes (4401) when the user is gone or inactive (see
``bridge.ws.consumer``). ``QuerySet.update()`` sends no signals: the bridges' periodic
credentials check (``WS_AUTH_RECHECK``) also catches deactivation and staff changes.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from common import groups
from common.clients import get_broadcast_client
from common.errors import Forbidden, NotFound
from common.messages import Context

from .models import Tracker
from .permissions import ACCOUNT_CHANGED, CONTROLLER_REMOVED, check_read

logger = logging.getLogger(__name__)

RIGHTS = ("is_active", "is_staff")  # the user fields that change what a connection may do


def announce(user_ids: Iterable[Any], reason: str) -> None:
    """After commit, tell each user's connections (every bridge) that their rights changed."""
    users = sorted({int(pk) for pk in user_ids if pk is not None})
    if not users:
        return

    def send() -> None:
        client = get_broadcast_client()
        for user_id in users:
            try:
                client.access_changed_sync(groups.user_group(user_id), reason)
            except Exception:
                logger.exception("could not announce an access change to user %s", user_id)

    transaction.on_commit(send)


def recheck(user_id: Any, tracker_ids: Iterable[str]) -> tuple[Any, list[str]]:
    """The user as stored now (None when deleted or inactive) and which of ``tracker_ids``
    they may no longer read (all of them when the user is None)."""
    from . import store  # the store announces through this module

    tracker_ids = list(tracker_ids)
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None, tracker_ids
    context = Context(user_id=user.pk, username=user.get_username(), is_staff=bool(user.is_staff), via="ws")
    lost = []
    for tracker_id in tracker_ids:
        try:
            check_read(context, store.load(tracker_id))
        except (Forbidden, NotFound):
            lost.append(tracker_id)
    return user, lost


# -- signals: connected in TrackerConfig.ready -------------------------------------------------


def _controllers_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action == "pre_clear":
        # Who loses access is only known before the rows go.
        instance._access_cleared = [instance.pk] if reverse else list(instance.controllers.values_list("pk", flat=True))
    elif action == "post_clear":
        announce(getattr(instance, "_access_cleared", []), CONTROLLER_REMOVED)
    elif action == "post_remove":
        announce([instance.pk] if reverse else (pk_set or ()), CONTROLLER_REMOVED)


def _remember_rights(sender, instance, **kwargs) -> None:
    # From __dict__: a deferred field must not cost a query per loaded user.
    instance._access_rights = tuple(instance.__dict__.get(name) for name in RIGHTS)


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created:
        return
    before = getattr(instance, "_access_rights", (None,) * len(RIGHTS))
    now = tuple(instance.__dict__.get(name) for name in RIGHTS)
    if None in before:  # loaded without these fields: changed if the save may have written them
        changed = update_fields is None or bool(set(update_fields) & set(RIGHTS))
    else:
        changed = before != now
    if changed:
        announce([instance.pk], ACCOUNT_CHANGED)
    instance._access_rights = now


def _user_deleted(sender, instance, **kwargs) -> None:
    announce([instance.pk], ACCOUNT_CHANGED)


def connect_signals() -> None:
    user_model = get_user_model()
    m2m_changed.connect(_controllers_changed, sender=Tracker.controllers.through, dispatch_uid="tracker.access.controllers")
    post_init.connect(_remember_rights, sender=user_model, dispatch_uid="tracker.access.user_init")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="tracker.access.user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="tracker.access.user_deleted")
