"""The REST API at ``/api/v1/``."""
from django.urls import include, path

from .auth import TokenView
from .stream import TrackStreamView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("tracks/<int:track_id>/stream", TrackStreamView.as_view(), name="track-stream"),
    path("", include("bridge.api.userdata_urls")),
]
