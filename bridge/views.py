"""The browser UI's pages: the app shell at ``/`` (login required), login and logout.

The app is one page; everything after it (browsing, playback, devices) runs over the
WebSocket from the ES modules in ``static/js/``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie

from library import radio
from library.userdata import preferences

from .lockout import refuse_when_locked

LOGIN_URL = reverse_lazy("ui-login")


@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def app(request):
    """The single-page app; the client reads who is logged in from ``boot``. The user's theme
    is a class on ``<html>``, so the first paint has the right colours (no inline script)."""
    user = request.user
    stations = radio.station_list()
    boot = {"username": user.get_username(), "is_staff": bool(user.is_staff), "user_id": user.pk, "radio": stations}
    response = render(request, "app.html", {"boot": boot, "theme": preferences.settings_get(user)["theme"]})
    origins = radio_origins(stations)
    if origins:
        response._csp_update = {"media-src": origins}  # django-csp: added to the policy's media-src
    return response


def radio_origins(stations) -> list[str]:
    """The origins (``https://host:port``) of the stations' streams, for the page's media-src:
    the Radio view plays them, and no other outside media is allowed."""
    origins = []
    for station in stations:
        parts = urlsplit(station["stream_url"])
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
            if origin not in origins:
                origins.append(origin)
    return origins


@method_decorator(refuse_when_locked, name="dispatch")
class LoginView(auth_views.LoginView):
    """Locked-out sign-ins (``bridge.lockout``) get 429 with ``Retry-After``."""

    template_name = "login.html"
    redirect_authenticated_user = True
    next_page = "/"


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): the app's logout button is a small form."""

    next_page = LOGIN_URL
