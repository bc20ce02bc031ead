"""The orchestrator app: keeps django-q2 schedules in step with the libraries.

``scan_request`` (set in ``ready``) is how the library admin's "Scan now" reaches the
scan service without importing the orchestrator.

Signals: after ``migrate`` every schedule is synced (``schedules.sync_all``); after a
library is saved or deleted, its scan schedule follows (``schedules.sync_library`` /
``schedules.remove_library``). Queryset ``update()`` calls (the scan lease) send no
signals and leave the schedules alone.
"""
from __future__ import annotations

import logging

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_delete, post_migrate, post_save

logger = logging.getLogger(__name__)


def _tables_ready(using: str) -> bool:
    names = set(connections[using].introspection.table_names())
    return {"django_q_schedule", "library_library"} <= names


def sync_after_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    # post_migrate is sent once per app; act once, after the library app's turn.
    if app_config is None or app_config.label != "library" or using != DEFAULT_DB_ALIAS:
        return
    if not _tables_ready(using):
        return
    from .schedules import sync_all

    sync_all()


def library_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from .schedules import sync_library

    sync_library(instance)


def library_deleted(sender, instance, **kwargs) -> None:
    from .schedules import remove_library

    remove_library(instance.pk)


class OrchestratorConfig(AppConfig):
    name = "orchestrator"
    verbose_name = "Orchestrator"

    def ready(self) -> None:
        from .services import scan_request

        self.scan_request = scan_request
        post_migrate.connect(sync_after_migrate, dispatch_uid="orchestrator.sync_after_migrate")
        post_save.connect(library_saved, sender="library.Library", dispatch_uid="orchestrator.library_saved")
        post_delete.connect(library_deleted, sender="library.Library", dispatch_uid="orchestrator.library_deleted")
