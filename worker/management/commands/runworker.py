"""``runworker`` that refuses to run where it would silently serve nothing.

On the in-memory channel layer a worker process cannot receive anything from another
process, and Channels' own command would start without complaint. Here it stops with a
clear message instead. It also defaults to the ``worker`` layer alias, where the
competing-worker queue lives, and its listener survives a lost Redis connection.
"""
from channels.management.commands.runworker import Command as ChannelsRunworker
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.management import CommandError

from worker.server import ResilientWorker


class Command(ChannelsRunworker):
    worker_class = ResilientWorker

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(layer="worker")

    def handle(self, *args, **options):
        layer = get_channel_layer(options.get("layer") or "worker")
        if layer is None or isinstance(layer, InMemoryChannelLayer):
            raise CommandError(
                "runworker needs a shared channel layer: set REDIS_URL (e.g. redis://127.0.0.1:6379/0). "
                "In the embedded mode the worker already runs inside the server (manage.py serve)."
            )
        return super().handle(*args, **options)
