"""The Subsonic envelope and its three renderings: XML (default), JSON and JSONP.

A response body is built once as plain data and rendered by ``render``:

- a ``dict`` is an element: scalar values are its attributes, ``dict`` values child
  elements, ``list`` values repeated child elements (dicts, or scalars written as text),
  and the key ``"value"`` its text content (``<genre songCount="3">Rock</genre>`` is
  ``{"songCount": 3, "value": "Rock"}``, as the Subsonic JSON form has it);
- ``None`` values are left out; in XML booleans are ``true``/``false``.

Errors are always HTTP 200 with ``status="failed"`` and one of the numeric codes below
(``SubsonicError`` carries one); ``from_bus_error`` is the one place that maps the
server's error catalogue onto them.
"""
from __future__ import annotations

import json
import re
from typing import Any

import orjson

from django.http import HttpResponse

from common.errors import BusError

API_VERSION = "1.16.1"
SERVER_TYPE = "musicserver"
SERVER_VERSION = "1.0.0"
XMLNS = "http://subsonic.org/restapi"

# The Subsonic error codes (and OpenSubsonic's 44).
ERROR_GENERIC = 0
ERROR_MISSING_PARAMETER = 10
ERROR_CLIENT_TOO_OLD = 20
ERROR_SERVER_TOO_OLD = 30
ERROR_WRONG_CREDENTIALS = 40
ERROR_TOKEN_AUTH_NOT_SUPPORTED = 41  # token auth for LDAP users; no LDAP here, kept for completeness
ERROR_AUTH_MECHANISM_NOT_SUPPORTED = 42
ERROR_CONFLICTING_AUTH = 43
ERROR_INVALID_API_KEY = 44
ERROR_NOT_AUTHORIZED = 50
ERROR_NOT_FOUND = 70

_BUS_CODES = {
    "invalid_payload": ERROR_MISSING_PARAMETER,  # a parameter without a usable value
    "bad_request": ERROR_MISSING_PARAMETER,
    "not_found": ERROR_NOT_FOUND,
    "forbidden": ERROR_NOT_AUTHORIZED,
    "unauthenticated": ERROR_WRONG_CREDENTIALS,
}

_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")


class Text(str):
    """A string written as a child element with text in XML (``<biography>...</biography>``)
    and as a plain string in JSON: the ``xs:element`` fields of ``ArtistInfo``/``AlbumInfo``."""


class SubsonicError(Exception):
    """An error answered in the envelope: ``code`` is one of the ``ERROR_*`` constants."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MissingParameter(SubsonicError):
    def __init__(self, name: str) -> None:
        super().__init__(ERROR_MISSING_PARAMETER, f"Required parameter is missing: {name}")


class InvalidParameter(SubsonicError):
    """A parameter whose value cannot be used: code 10, as for a missing one (Subsonic has no
    code of its own for this; 0 means the server failed)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(ERROR_MISSING_PARAMETER, f"Parameter {name} {problem}")


class NotFoundError(SubsonicError):
    def __init__(self, message: str) -> None:
        super().__init__(ERROR_NOT_FOUND, message)


def from_bus_error(exc: BusError) -> SubsonicError:
    """The Subsonic error for an error of the server's catalogue."""
    return SubsonicError(_BUS_CODES.get(exc.code, ERROR_GENERIC), exc.message)


def envelope(status: str = "ok", body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``subsonic-response`` element: status, versions, then the body's elements."""
    return {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": SERVER_VERSION,
        "openSubsonic": True,
        **(body or {}),
    }


def error_envelope(error: SubsonicError) -> dict[str, Any]:
    return envelope("failed", {"error": {"code": error.code, "message": error.message}})


# -- rendering ------------------------------------------------------------------------------


class Element(dict):
    """An element already without ``None`` values, its children too (``shapes`` builds the
    many songs of a page so): ``_clean`` passes it as it is."""


def _clean(value: Any) -> Any:
    """JSON form: ``None`` dropped from dicts (lists of elements stay lists)."""
    if type(value) is Element:
        return value
    if type(value) is dict:
        return {key: _clean(item) if type(item) in _NESTED else item for key, item in value.items() if item is not None}
    return [_clean(item) if type(item) in _NESTED else item for item in value if item is not None]


_NESTED = (dict, list, tuple, Element)
# XML text: the five characters that need escaping in attributes, and those XML 1.0 cannot
# carry at all (tags sometimes hold them: dropped). One C-level pass per value.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
                          "\t": "&#9;", **{chr(c): None for c in (*range(0, 9), 11, 12, *range(14, 32))},
                          **{chr(c): None for c in (*range(0xD800, 0xE000), 0xFFFE, 0xFFFF)}})
_SAFE = re.compile(r'^[^&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]*$')


def _text(value: Any) -> str:
    """A scalar as escaped XML text (attribute or element content)."""
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return str(value)
    value = str(value)
    return value if _SAFE.match(value) else value.translate(_ESCAPES)


def _xml_element(name: str, value: Any, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"<{name}>{_text(value)}</{name}>")
        return
    head = [f"<{name}"]
    children: list[str] = []
    text = None
    for key, item in value.items():
        if item is None:
            continue
        kind = type(item)
        if kind is Text:
            children.append(f"<{key}>{_text(item)}</{key}>")
        elif kind is dict or kind is Element:
            _xml_element(key, item, children)
        elif kind is list or kind is tuple:
            for entry in item:
                if entry is not None:
                    _xml_element(key, entry, children)
        elif key == "value":
            text = _text(item)
        else:
            head.append(f' {key}="{_text(item)}"')
    if text is not None:
        children.insert(0, text)
    if children:
        out.append(f"{''.join(head)}>{''.join(children)}</{name}>")
    else:
        out.append(f"{''.join(head)}/>")


def to_xml(response: dict[str, Any]) -> str:
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml_element("subsonic-response", {"xmlns": XMLNS, **response}, parts)
    return "".join(parts)


def to_json(response: dict[str, Any]) -> bytes:
    """The JSON form (orjson: a tenth of the time of ``json.dumps`` for a page of 500 songs)."""
    document = {"subsonic-response": _clean(response)}
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate from a broken tag)
        return json.dumps(document, separators=(",", ":")).encode()


def render(response: dict[str, Any], fmt: str | None, callback: str | None = None) -> HttpResponse:
    """The HTTP response (always 200) for an envelope in format ``f``: xml (default), json, jsonp."""
    fmt = (fmt or "xml").lower()
    if fmt == "json":
        return HttpResponse(to_json(response), content_type="application/json; charset=utf-8")
    if fmt == "jsonp":
        if not callback or not _CALLBACK.match(callback):
            # A callback that is not a plain JavaScript name could inject script: refuse it.
            error = SubsonicError(ERROR_MISSING_PARAMETER, "jsonp needs a 'callback' that is a JavaScript function name")
            return HttpResponse(to_json(error_envelope(error)), content_type="application/json; charset=utf-8")
        return HttpResponse(b"%s(%s);" % (callback.encode(), to_json(response)),
                            content_type="application/javascript; charset=utf-8")
    return HttpResponse(to_xml(response), content_type="text/xml; charset=utf-8")


def render_error(error: SubsonicError, fmt: str | None, callback: str | None = None) -> HttpResponse:
    return render(error_envelope(error), fmt, callback)
