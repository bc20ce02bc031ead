"""The Subsonic endpoint (``/rest/<method>`` and ``/rest/<method>.view``) and the
credentials endpoint the browser UI uses (``/rest/credentials``).

Every Subsonic request authenticates itself with its parameters (see ``auth``), never with
cookies, so the endpoint is exempt from CSRF checks and form POSTs from apps work. Every
answer that is not audio or an image is the Subsonic envelope, with HTTP 200, also for
unknown methods and failures: the one place errors are formatted is ``render_error``.
"""
from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from common.errors import BusError

from . import credentials, methods
from .auth import authenticate
from .methods import DEFAULT_CLIENT, Call
from .params import Params
from .responses import (
    ERROR_CLIENT_TOO_OLD,
    ERROR_GENERIC,
    ERROR_NOT_FOUND,
    ERROR_SERVER_TOO_OLD,
    API_VERSION,
    SubsonicError,
    envelope,
    from_bus_error,
    render,
    render_error,
)

logger = logging.getLogger(__name__)
methods.load_all()

ALLOWED_HTTP_METHODS = ("GET", "HEAD", "POST")


def method_name(path: str) -> str:
    name = path.strip("/")
    return name[: -len(".view")] if name.endswith(".view") else name


def check_version(version: str | None) -> None:
    """Refuse clients of another major protocol version (minor versions are compatible)."""
    if not version:
        return
    try:
        major = int(version.split(".")[0])
    except ValueError:
        return
    ours = int(API_VERSION.split(".")[0])
    if major < ours:
        raise SubsonicError(ERROR_CLIENT_TOO_OLD, f"Incompatible protocol version {version}: the client must upgrade to {API_VERSION}.")
    if major > ours:
        raise SubsonicError(ERROR_SERVER_TOO_OLD, f"Incompatible protocol version {version}: the server speaks {API_VERSION}.")


def _run(request: HttpRequest, name: str, params: Params) -> dict | HttpResponseBase:
    if request.method not in ALLOWED_HTTP_METHODS:
        raise SubsonicError(ERROR_GENERIC, f"Use GET or POST, not {request.method}.")
    found = methods.find(name)
    if found is None:
        raise SubsonicError(ERROR_NOT_FOUND, f"Unknown Subsonic method {name!r}.")
    check_version(params.get("v"))
    anonymous = found.public and not any(key in params for key in ("u", "apiKey"))
    user = None if anonymous else authenticate(params, request)
    if user is not None:
        methods.check_allowed(found, user)
    return found.handler(Call(http=request, params=params, user=user, client=params.get("c") or DEFAULT_CLIENT))


@csrf_exempt
def subsonic(request: HttpRequest, path: str) -> HttpResponseBase:
    """Any ``/rest/...`` request: parameters from the query and the form body together."""
    params = Params(request.GET, request.POST) if request.method == "POST" else Params(request.GET)
    fmt, callback = params.get("f"), params.get("callback")
    try:
        result = _run(request, method_name(path), params)
    except SubsonicError as exc:
        return render_error(exc, fmt, callback)
    except BusError as exc:
        return render_error(from_bus_error(exc), fmt, callback)
    except Exception:
        logger.exception("Subsonic %s failed", method_name(path))
        return render_error(SubsonicError(ERROR_GENERIC, "The server failed to handle the request; try again later."),
                            fmt, callback)
    if isinstance(result, HttpResponseBase):
        return result
    return render(envelope("ok", result), fmt, callback)


# -- the browser UI's credentials endpoint -------------------------------------------------------


def _unauthenticated() -> JsonResponse:
    return JsonResponse({"error": {"code": "unauthenticated", "message": "Log in first."}}, status=401)


@never_cache
def credentials_view(request: HttpRequest) -> HttpResponse:
    """``GET /rest/credentials``: the signed-in user's Subsonic credentials (the password in
    clear, the API key's first characters). ``POST`` (CSRF-protected, ``regenerate`` =
    ``password`` (default), ``api_key`` or ``both``, as form or JSON): new ones, returned
    once in clear; or, with ``stream_format`` / ``stream_max_bitrate`` in a JSON body
    instead, the default format and maximum bitrate of the user's Subsonic streams.
    ``DELETE``: revoke both. Every answer is ``Cache-Control: no-store``."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    user = request.user
    if request.method == "GET":
        return JsonResponse({**credentials.show(user), "server": request.build_absolute_uri("/")})
    if request.method == "DELETE":
        credentials.revoke(user)
        return JsonResponse({**credentials.show(user), "server": request.build_absolute_uri("/")})
    if request.method != "POST":
        return JsonResponse({"error": {"code": "bad_request", "message": "Use GET, POST or DELETE."}}, status=405,
                            headers={"Allow": "GET, POST, DELETE"})
    which = request.POST.get("regenerate")
    if which is None and request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):  # RecursionError: nested past the decoder's limit
            body = None
        if not isinstance(body, dict):
            return JsonResponse({"error": {"code": "bad_request", "message": "Send a JSON object."}}, status=400)
        if "stream_format" in body or "stream_max_bitrate" in body:
            current_format, current_rate = credentials.stream_defaults(user)
            try:
                credentials.stream_defaults_set(user, body.get("stream_format", current_format),
                                                body.get("stream_max_bitrate", current_rate))
            except BusError as exc:
                return JsonResponse({"error": exc.as_dict()}, status=400)
            return JsonResponse({**credentials.show(user), "server": request.build_absolute_uri("/")})
        which = body.get("regenerate")
    which = which or "password"
    if which not in ("password", "api_key", "both"):
        return JsonResponse({"error": {"code": "invalid_payload",
                                       "message": "regenerate must be password, api_key or both."}}, status=400)
    made = {}
    if which in ("password", "both"):
        made["password"] = credentials.password_reset(user)
    if which in ("api_key", "both"):
        made["api_key"] = credentials.api_key_reset(user)
    return JsonResponse({**credentials.show(user), **made, "server": request.build_absolute_uri("/")})
