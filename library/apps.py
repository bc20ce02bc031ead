from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "Library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import search

        # A later migration that rebuilds a catalogue table drops its SQLite search
        # triggers; put them back after every migrate.
        post_migrate.connect(search.repair_after_migrate, dispatch_uid="library.search.repair")
