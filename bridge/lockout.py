"""Sign-in lockout: every password check is refused after too many failures (django-axes).

``LOGIN_RATE`` (default ``10/min``) is N failures per window. After N failed sign-ins within
the window from one client address (``bridge.clientaddr``), or for one username from any
address, every sign-in from that address or for that username is refused, the right password
included, until a window has passed since the last counted failure. Refused attempts do not
extend the lockout. The counts live in the shared cache (Redis in the scaled mode), so every
bridge counts together; the embedded mode has a single bridge process.

The four password checks: ``/login/`` and the admin login (Django's ``authenticate``, guarded by
``axes.backends.AxesStandaloneBackend``; the views are wrapped in :func:`refuse_when_locked`,
which answers 429 with ``Retry-After``), ``POST /api/v1/auth/token/`` (the same backend; the
view raises :class:`LockedOut`, the REST ``rate_limited`` error with ``Retry-After``) and
Subsonic (``bridge.subsonic.auth`` calls :func:`is_locked` and :func:`note_failure` itself: it
checks its own secrets, not Django's password).

axes' middleware is not installed: it would answer Subsonic's lockouts with an HTML page
instead of the Subsonic envelope. Each login view answers for itself instead.
"""
from __future__ import annotations

from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse
from rest_framework.exceptions import Throttled


def message() -> str:
    return (f"Too many failed sign-ins for this account or from this address; "
            f"try again in {settings.LOGIN_WINDOW} s.")


def lockout_parameters(request, credentials) -> list[str]:
    """``AXES_LOCKOUT_PARAMETERS``: count per address and per username (one count each);
    an attempt without a username (a Subsonic API key) counts per address only, so it
    cannot lock everyone else who sends none."""
    return ["ip_address", "username"] if (credentials or {}).get("username") else ["ip_address"]


def username_key(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username as counted, marked so that a username that
    looks like an address (``10.0.0.1`` is a valid username) never shares that address's count;
    in lower case, as sign-ins ignore it (``bridge.usernames``)."""
    username = (credentials or {}).get("username")
    return f"user:{username.lower()}" if username else None


def is_locked(request, username: str | None) -> bool:
    """Whether sign-ins from this request's address, or for ``username``, are refused now."""
    return not AxesProxyHandler.is_allowed(request, {"username": username or None})


def note_failure(request, username: str | None) -> None:
    """Count a failed sign-in that did not go through Django's ``authenticate``."""
    user_login_failed.send(sender=__name__, credentials={"username": username or None}, request=request)


class LockedOut(Throttled):
    """The REST answer to a locked-out sign-in: 429 ``rate_limited`` with ``Retry-After``."""

    def __init__(self) -> None:
        super().__init__(wait=settings.LOGIN_WINDOW, detail=message())


def refuse_when_locked(view):
    """Wrap a login view that signs in through Django's ``authenticate``: when axes refused the
    attempt or this failure reached the limit, answer 429 with ``Retry-After`` instead."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if getattr(request, "axes_locked_out", False):
            return HttpResponse(message(), status=429, content_type="text/plain; charset=utf-8",
                                headers={"Retry-After": str(settings.LOGIN_WINDOW)})
        return response

    return wrapped
