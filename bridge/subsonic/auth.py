"""Who is calling: Subsonic authentication on every request (no cookies, no sessions).

Accepted, per the Subsonic and OpenSubsonic specifications:

- ``u`` + ``p``: the user's Subsonic password in clear or as ``enc:<hex of its UTF-8>``;
- ``u`` + ``t`` + ``s``: ``t = md5(password + s)`` (API 1.13.0+);
- ``apiKey`` alone (OpenSubsonic ``apiKeyAuthentication``): with ``u`` it is error 43.

Failed sign-ins are throttled against password guessing: once an address has had
``LOGIN_RATE`` of them (default 10 a minute, the REST login's rate) within the window,
every request from it is refused with error 40, right credentials or not, until the
window ends. Only failures count (a client authenticates every request); they are
counted in the shared cache, so every bridge counts together, and the address is found
as the REST throttle finds it.

The password is the user's separate Subsonic password (see ``credentials``), never the
login password. Secrets are compared in constant time (``hmac.compare_digest``), an unknown
user goes through the same comparison against a dummy secret, and it gets the same answer
as a wrong password, so the answers do not tell which usernames exist. Codes 41 (LDAP) and
42 (mechanism not supported) are never needed: every mechanism works for every user.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from library.models import SubsonicCredential

from . import credentials
from .responses import (
    ERROR_CONFLICTING_AUTH,
    ERROR_INVALID_API_KEY,
    ERROR_MISSING_PARAMETER,
    ERROR_WRONG_CREDENTIALS,
    SubsonicError,
)

WRONG = ("Wrong username or password. Use your Subsonic password, not the login password: "
         "see Subsonic settings in the web UI, or manage.py subsonic_password.")
_DUMMY = "x" * credentials.PASSWORD_LENGTH


def _clear_password(p: str) -> str:
    if p.startswith("enc:"):
        try:
            return binascii.unhexlify(p[4:]).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise SubsonicError(ERROR_WRONG_CREDENTIALS, WRONG) from None
    return p


def _matches(stored: str, *, password: str | None, token: str | None, salt: str | None) -> bool:
    if password is not None:
        return hmac.compare_digest(stored.encode(), password.encode())
    expected = hashlib.md5((stored + (salt or "")).encode()).hexdigest()
    return hmac.compare_digest(expected.encode(), (token or "").strip().lower().encode())


def _failures_key(request) -> str:
    return "subsonic-auth-failures:" + BaseThrottle().get_ident(request)


def _rate() -> tuple[int, int]:
    """(failures allowed, window in seconds): the REST login throttle's rate, ``LOGIN_RATE``."""
    throttle = ScopedRateThrottle()
    return throttle.parse_rate(throttle.THROTTLE_RATES["login"])


def _refuse_if_blocked(request) -> None:
    limit, window = _rate()
    if (cache.get(_failures_key(request)) or 0) >= limit:
        raise SubsonicError(ERROR_WRONG_CREDENTIALS, f"Too many failed sign-ins from this address; try again within {window} s.")


def _note_failure(request) -> None:
    _, window = _rate()
    key = _failures_key(request)
    if not cache.add(key, 1, timeout=window):  # the window starts at the first failure
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, timeout=window)


def authenticate(params, request) -> object:
    """The active user named by the request's credentials, or a ``SubsonicError`` (failures
    from one address beyond ``LOGIN_RATE`` are refused before any check)."""
    _refuse_if_blocked(request)
    try:
        return _authenticate(params)
    except SubsonicError as error:
        if error.code in (ERROR_WRONG_CREDENTIALS, ERROR_INVALID_API_KEY):
            _note_failure(request)
        raise


def _authenticate(params) -> object:
    api_key = params.get("apiKey")
    username, p, t, s = params.get("u"), params.get("p"), params.get("t"), params.get("s")
    if api_key is not None:
        if username is not None or p is not None or t is not None:
            raise SubsonicError(ERROR_CONFLICTING_AUTH, "Send either apiKey or u with p or t+s, not both.")
        return _by_api_key(api_key)
    if not username:
        raise SubsonicError(ERROR_MISSING_PARAMETER, "Required parameter is missing: u (or apiKey)")
    if p is not None and t is not None:
        raise SubsonicError(ERROR_CONFLICTING_AUTH, "Send either p or t+s, not both.")
    if p is None and t is None:
        raise SubsonicError(ERROR_MISSING_PARAMETER, "Required parameter is missing: p, or t and s")
    if t is not None and not s:
        raise SubsonicError(ERROR_MISSING_PARAMETER, "Required parameter is missing: s")
    password = _clear_password(p) if p is not None else None

    credential = (
        SubsonicCredential.objects.select_related("user")
        .filter(user__username=username, user__is_active=True)
        .first()
    )
    stored = credentials.decrypt(credential.password_encrypted) if credential is not None else None
    ok = _matches(stored or _DUMMY, password=password, token=t, salt=s)
    if credential is None or stored is None or not ok:
        raise SubsonicError(ERROR_WRONG_CREDENTIALS, WRONG)
    credentials.touch(credential)
    return credential.user


def _by_api_key(key: str):
    # The digest of a high-entropy key is looked up by equality; nothing secret is compared
    # byte by byte, so there is no timing signal to exploit.
    credential = (
        SubsonicCredential.objects.select_related("user")
        .filter(api_key_hash=credentials.api_key_digest(key), user__is_active=True)
        .first()
        if key
        else None
    )
    if credential is None:
        raise SubsonicError(ERROR_INVALID_API_KEY, "Invalid API key.")
    credentials.touch(credential)
    return credential.user
