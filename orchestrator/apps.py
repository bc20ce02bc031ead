"""The orchestrator app: keeps django-q2 schedules in step with the libraries.

Libraries' admin pages, with "Scan now", are ``orchestrator.admin``: the catalogue app
imports no orchestrator code.

Signals (handlers in ``schedules``): after ``migrate`` every schedule is synced; after a
library is saved or deleted, its scan schedule follows. Queryset ``update()`` calls (the
scan lease) send no signals and leave the schedules alone.
"""
from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class OrchestratorConfig(AppConfig):
    name = "orchestrator"
    verbose_name = "Orchestrator"

    def ready(self) -> None:
        from . import schedules  # loads models: only once the apps are ready
        post_migrate.connect(schedules.sync_after_migrate, dispatch_uid="orchestrator.sync_after_migrate")
        post_save.connect(schedules.library_saved, sender="library.Library", dispatch_uid="orchestrator.library_saved")
        post_delete.connect(schedules.library_deleted, sender="library.Library",
                            dispatch_uid="orchestrator.library_deleted")
