"""The ASGI application: HTTP (Django, see ``mediaproject.http``), WebSocket (the bridge), and the worker channel.

The ``channel`` protocol serves ``manage.py runworker worker`` in the scaled mode. HTTP and
WebSocket connections first pass ``bridge.clientaddr.ProxyHeadersMiddleware`` (the client's
address and scheme behind a trusted proxy) and ``bridge.logs.AccessLogMiddleware`` (the
access log, secrets redacted). Static files are answered by WhiteNoise, the first step of
Django's middleware after ``SecurityMiddleware`` (see ``mediaproject.storage``).
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediaproject.settings")

from mediaproject.http import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from bridge.transcode import binary as _ffmpeg, cache as _transcode_cache  # noqa: E402

_ffmpeg.check_at_start()  # one warning when no ffmpeg runs: originals are served
_transcode_cache.clear_stale_parts()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402

from bridge.auth import HandshakeAuthMiddleware  # noqa: E402
from bridge.clientaddr import ProxyHeadersMiddleware  # noqa: E402
from bridge.logs import AccessLogMiddleware  # noqa: E402
from bridge.routing import websocket_urlpatterns  # noqa: E402
from worker.consumers import WorkerConsumer  # noqa: E402


application = ProxyHeadersMiddleware(AccessLogMiddleware(ProtocolTypeRouter(
    {
        # Static files are served by the project itself too (no separate web server needed).
        "http": django_asgi_app,
        "websocket": HandshakeAuthMiddleware(URLRouter(websocket_urlpatterns)),
        "channel": ChannelNameRouter({"worker": WorkerConsumer.as_asgi()}),
    }
)))
