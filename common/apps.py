from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Message bus"

    def ready(self) -> None:
        # Every app declares its actions and events in its own ``actions`` module.
        autodiscover_modules("actions")
