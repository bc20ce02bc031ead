from django.urls import path

from .consumers import BusConsumer

websocket_urlpatterns = [
    path("ws/", BusConsumer.as_asgi()),
]
