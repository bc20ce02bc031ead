from django.urls import path

from .ws.consumer import BusConsumer

websocket_urlpatterns = [
    path("ws/", BusConsumer.as_asgi()),
]
