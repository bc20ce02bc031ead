from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Trackers"
    default_auto_field = "django.db.models.BigAutoField"
