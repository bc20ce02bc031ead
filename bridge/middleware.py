"""HTTP middleware for the API clients: CORS on the Subsonic API, compression of large answers.

**CORS on ``/rest/``.** Subsonic clients authenticate with parameters, never cookies, so
any origin may call the API: every answer carries ``Access-Control-Allow-Origin: *``
(without ``Allow-Credentials``: a browser then sends no cookies), and a preflight
``OPTIONS`` is answered here, 204 with the allowed methods and headers, before the Subsonic
view (which would answer an error envelope). ``/rest/credentials`` is left out: it is the
browser UI's, signed in by session cookie.

**Compression.** JSON, XML and JavaScript answers of ``/rest/`` and ``/api/`` of at least
``MIN_COMPRESSED_BYTES`` are gzipped for clients that accept it (Django's
``GZipMiddleware``, with its random padding against BREACH). Audio streams and cover art
are never compressed (their types are not text, and streams are not read whole). BREACH
needs a secret in the body next to text the attacker chooses: these answers hold catalogue
data and echo no credential or token from the request; the two answers that show a secret
(``/rest/credentials`` and the REST token endpoint) are ``Cache-Control: no-store`` and
are sent uncompressed.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware

CORS_METHODS = "GET, HEAD, POST, OPTIONS"
CORS_HEADERS = "Content-Type, Range, Authorization, X-Requested-With"
CORS_EXPOSED = "Content-Length, Content-Range, Accept-Ranges, Content-Disposition"
CORS_MAX_AGE = "86400"
MIN_COMPRESSED_BYTES = 1024
COMPRESSED_PREFIXES = ("/rest/", "/api/")
COMPRESSED_TYPES = ("application/json", "text/xml", "application/xml", "application/javascript",
                    "application/vnd.oai.openapi")


def _subsonic(path: str) -> bool:
    return path.startswith("/rest/") and not path.startswith("/rest/credentials")


class SubsonicCorsMiddleware:
    """``Access-Control-*`` headers on ``/rest/`` answers; preflights answered here."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _subsonic(request.path):
            return self.get_response(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = CORS_METHODS
            # Echo what the preflight asks for (parameters carry the credentials, so no
            # header grants anything); else the usual ones.
            response["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or CORS_HEADERS
            response["Access-Control-Max-Age"] = CORS_MAX_AGE
            response["Allow"] = CORS_METHODS
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = CORS_EXPOSED
        return response


class ApiGZipMiddleware(GZipMiddleware):
    """Django's gzip, for large text answers of the APIs only (see the module docstring)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith(COMPRESSED_PREFIXES) or response.streaming:
            return response
        if not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        if "no-store" in response.get("Cache-Control", "") or len(response.content) < MIN_COMPRESSED_BYTES:
            return response
        return super().process_response(request, response)
