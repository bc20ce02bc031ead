from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Trackers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import access

        access.connect_signals()  # tell open connections when who may read a tracker changes
