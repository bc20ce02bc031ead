"""The Subsonic methods, one module per area, registered by name with ``@method``.

A method takes a ``Call`` (the parameters, the authenticated user, the client's name)
and returns the elements to put in the envelope (``{"album": {...}}``), or an
``HttpResponse`` for binary answers (stream, download, getCoverArt).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.http import HttpRequest, HttpResponse

from common.messages import Context

from ..params import Params
from ..responses import ERROR_NOT_AUTHORIZED, SubsonicError

DEFAULT_CLIENT = "Subsonic"


@dataclass
class Call:
    http: HttpRequest
    params: Params
    user: Any
    client: str = DEFAULT_CLIENT

    @property
    def context(self) -> Context:
        """The bus context of this request: the user, via ``subsonic``, the client as device."""
        return Context(user_id=self.user.pk, username=self.user.get_username(), is_staff=self.user.is_staff,
                       via="subsonic", device=self.client)


Handler = Callable[[Call], "dict[str, Any] | HttpResponse"]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    staff: bool = False
    public: bool = False  # answered without credentials (getOpenSubsonicExtensions, as the spec asks)


METHODS: dict[str, Method] = {}
_BY_LOWER: dict[str, Method] = {}


def method(name: str, *, staff: bool = False, public: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in METHODS:
            raise ValueError(f"Subsonic method {name} registered twice")
        METHODS[name] = _BY_LOWER[name.lower()] = Method(name, handler, staff, public)
        return handler

    return register


def find(name: str) -> Method | None:
    """The method called ``name`` (exact, else ignoring case: some clients vary it)."""
    return METHODS.get(name) or _BY_LOWER.get(name.lower())


def check_allowed(found: Method, user) -> None:
    if found.staff and not user.is_staff:
        raise SubsonicError(ERROR_NOT_AUTHORIZED, f"{found.name} is for staff users only.")


def load_all() -> None:
    """Import every method module (they register themselves)."""
    from . import (  # noqa: F401
        annotation, browsing, info, jukebox, lists, media, playlists, queue, radio, searching, shares, system, users,
    )
