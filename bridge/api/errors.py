"""The REST interface's one error format: ``{"error": {"code", "message", "details"?}}``.

Codes come from the catalogue (``common.errors``); DRF's own exceptions are mapped onto
them, so REST, WebSocket and Subsonic report the same failure with the same code.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from common.errors import BusError

STATUS = {
    "bad_request": 400,
    "unknown_action": 404,
    "invalid_payload": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "too_large": 413,
    "timeout": 504,
    "unavailable": 503,
    "internal": 500,
}


def _details(detail):
    if isinstance(detail, dict):
        return [{"field": field, "problem": " ".join(map(str, problems if isinstance(problems, list) else [problems]))}
                for field, problems in detail.items()]
    if isinstance(detail, list):
        return [{"field": "(body)", "problem": str(problem)} for problem in detail]
    return None


def error_response(code: str, message: str, *, status: int | None = None, details=None, headers=None) -> Response:
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return Response(body, status=status or STATUS[code], headers=headers)


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, BusError):
        set_rollback()
        retry_after = getattr(exc, "retry_after", None)
        return error_response(exc.code, exc.message, details=exc.details,
                              headers={"Retry-After": str(retry_after)} if retry_after else None)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None  # a bug: Django's 500 handling logs it
    set_rollback()
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, drf.ValidationError):
        details = _details(exc.detail)
        first = details[0] if details else {"field": "(body)", "problem": "invalid"}
        return error_response("invalid_payload", f"Invalid input: {first['field']}: {first['problem']}", details=details)
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return error_response("unauthenticated", "Log in, or send 'Authorization: Token <key>'.", status=exc.status_code, headers=headers)
    if isinstance(exc, drf.PermissionDenied):
        return error_response("forbidden", str(exc.detail))
    if isinstance(exc, drf.NotFound):
        return error_response("not_found", "No such object.")
    if isinstance(exc, drf.Throttled):
        return error_response("rate_limited", f"Too many requests; retry in {int(exc.wait or 1)} s.", headers=headers)
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response("bad_request", str(exc.detail), status=405)
    if isinstance(exc, drf.UnsupportedMediaType):
        return error_response("bad_request", str(exc.detail), status=415)
    return error_response("bad_request", str(exc.detail), status=exc.status_code)
