from django.apps import AppConfig


class BridgeConfig(AppConfig):
    name = "bridge"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from .usernames import refuse_case_duplicates

        pre_save.connect(refuse_case_duplicates, sender=get_user_model(), dispatch_uid="bridge.usernames")
