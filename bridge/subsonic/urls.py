"""``/rest/``: the Subsonic API (every path, so unknown methods answer in the envelope) and
the browser UI's credentials endpoint."""
from django.urls import path, re_path

from . import views

urlpatterns = [
    path("credentials", views.credentials_view, name="subsonic-credentials"),
    re_path(r"^(?P<path>.*)$", views.subsonic, name="subsonic"),
]
