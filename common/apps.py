from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

from .datadir import tighten_at_start


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Message bus"

    def ready(self) -> None:
        # Every app declares its actions and events in its own ``actions`` module.
        autodiscover_modules("actions")
        # Every server process and command passes here: make what an older version left
        # readable in DATA_DIR private (one log line when something changed).
        tighten_at_start()
