"""Who is calling: Subsonic authentication on every request (no cookies, no sessions).

Accepted, per the Subsonic and OpenSubsonic specifications:

- ``u`` + ``p``: the user's Subsonic password in clear or as ``enc:<hex of its UTF-8>``;
- ``u`` + ``t`` + ``s``: ``t = md5(password + s)`` (API 1.13.0+);
- ``apiKey`` alone (OpenSubsonic ``apiKeyAuthentication``): with ``u`` it is error 43.

Failed sign-ins count towards the sign-in lockout that every password check shares
(``bridge.lockout``): after ``LOGIN_RATE`` failures (default 10 a minute) from one address or
for one username, every request from that address or for that username is refused with
error 40 and a message saying so, right credentials or not, until the window has passed.
Only failures count (a client authenticates every request).

The password is the user's separate Subsonic password (see ``credentials``), never the
login password. Secrets are compared in constant time (``hmac.compare_digest``), and an
unknown user does the same work as a known one with a wrong password: the same query, the
decrypt of a stored ciphertext (a dummy one, made once per secret key) and the same
comparison; it gets the same answer, so neither the answers nor their timing tell which
usernames exist. Codes 41 (LDAP) and
42 (mechanism not supported) are never needed: every mechanism works for every user.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac

from django.conf import settings

from bridge import lockout
from bridge.usernames import same_name
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


_dummy_ciphertexts: dict[str, str] = {}


def _dummy_ciphertext() -> str:
    """A stored-password ciphertext under the current secret key, decrypted for unknown users."""
    key = settings.SECRET_KEY
    if key not in _dummy_ciphertexts:
        _dummy_ciphertexts[key] = credentials.encrypt(_DUMMY)
    return _dummy_ciphertexts[key]


def authenticate(params, request) -> object:
    """The active user named by the request's credentials, or a ``SubsonicError`` (a locked-out
    address or username is refused before any check; see ``bridge.lockout``)."""
    username = params.get("u") if params.get("apiKey") is None else None
    if lockout.is_locked(request, username):
        raise SubsonicError(ERROR_WRONG_CREDENTIALS, lockout.message())
    try:
        return _authenticate(params)
    except SubsonicError as error:
        if error.code in (ERROR_WRONG_CREDENTIALS, ERROR_INVALID_API_KEY):
            lockout.note_failure(request, username)
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

    credential = same_name(SubsonicCredential.objects.select_related("user").filter(user__is_active=True),
                           username, "user__username").first()
    # Decrypted for an unknown user too (a dummy): the same work, so the same time, either way.
    stored = credentials.decrypt(credential.password_encrypted if credential is not None else _dummy_ciphertext())
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
