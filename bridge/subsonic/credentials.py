"""Subsonic credentials: a separate, revocable app password and API key per user.

Why not the login password: Subsonic token auth sends ``t = md5(password + salt)``, which
the server can only check if it knows the password itself, and Django keeps only a slow
hash of the login password (rightly). So each user gets a *separate* random password
made by the server (``password_reset``), which the server must keep recoverably. It is
stored encrypted (Fernet) with a key derived from ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS``
still decrypt after a key rotation): a leaked database dump or backup alone does not give
it away, but whoever holds both the database and the secret key does. It opens the
Subsonic API only (never the admin or the login form), it is random (no reuse from other
sites) and it can be regenerated or revoked at any time; the UI shows it so the user can
type it into an app.

The OpenSubsonic API key (``apiKey``) is sent as is, so only its SHA-256 is stored: it
is shown once, when made, and can be replaced or revoked. Lookup is by that digest.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from library.models import SubsonicCredential

PASSWORD_ALPHABET = string.ascii_letters + string.digits  # easy to type into a phone app
PASSWORD_LENGTH = 24  # ~143 bits
PREFIX = "fernet:"
LAST_USED_RESOLUTION = timedelta(minutes=10)  # write ``last_used`` at most this often


def _fernet():
    from cryptography.fernet import Fernet, MultiFernet

    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"subsonic-credential:{key}".encode()).digest()))
        for key in keys
    ])


def encrypt(password: str) -> str:
    return PREFIX + _fernet().encrypt(password.encode()).decode()


def decrypt(stored: str) -> str | None:
    """The clear password, or None when there is none or the secret key changed."""
    if not stored.startswith(PREFIX):
        return None
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        return None


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _credential(user) -> SubsonicCredential:
    return SubsonicCredential.objects.select_for_update().get_or_create(user=user)[0]


def password_reset(user) -> str:
    """A new random Subsonic password for ``user`` (the old one stops working); returns it."""
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    with transaction.atomic():
        credential = _credential(user)
        credential.password_encrypted = encrypt(password)
        credential.save(update_fields=["password_encrypted", "updated"])
    return password


def api_key_reset(user) -> str:
    """A new API key for ``user`` (the old one stops working); returns it, the only time it is shown."""
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        credential = _credential(user)
        credential.api_key_hash = api_key_digest(key)
        credential.api_key_hint = key[:4]
        credential.save(update_fields=["api_key_hash", "api_key_hint", "updated"])
    return key


def revoke(user) -> bool:
    """Remove the user's Subsonic password and API key; True if there were any."""
    deleted, _ = SubsonicCredential.objects.filter(user=user).delete()
    return bool(deleted)


STREAM_FORMATS = ("", "raw", "opus", "mp3", "aac")
MAX_STREAM_BITRATE = 10_000


def stream_defaults_set(user, stream_format: str, max_bitrate: int) -> None:
    """The user's default for Subsonic streams: a format (``STREAM_FORMATS``, '' for none)
    and a maximum bitrate in kbit/s (0: none). ``InvalidPayload`` for anything else."""
    from common.errors import InvalidPayload

    if stream_format not in STREAM_FORMATS:
        raise InvalidPayload(f"stream_format must be one of: {', '.join(f or '(empty)' for f in STREAM_FORMATS)}.")
    if isinstance(max_bitrate, bool) or not isinstance(max_bitrate, int) or not 0 <= max_bitrate <= MAX_STREAM_BITRATE:
        raise InvalidPayload(f"stream_max_bitrate must be a whole number of kbit/s from 0 to {MAX_STREAM_BITRATE}.")
    with transaction.atomic():
        credential = _credential(user)
        credential.stream_format, credential.stream_max_bitrate = stream_format, max_bitrate
        credential.save(update_fields=["stream_format", "stream_max_bitrate", "updated"])


def stream_defaults(user) -> tuple[str, int]:
    """``(format, max_bitrate)`` for the user's Subsonic streams ('' and 0: none)."""
    row = SubsonicCredential.objects.filter(user=user).values_list("stream_format", "stream_max_bitrate").first()
    return row or ("", 0)


def show(user) -> dict[str, Any]:
    """What the UI shows: the password in clear (it is needed to set up an app), whether an
    API key exists and its first characters, and when they changed and were last used."""
    credential = SubsonicCredential.objects.filter(user=user).first()
    if credential is None:
        return {"username": user.get_username(), "password": None, "api_key_set": False, "api_key_hint": "",
                "created": None, "updated": None, "last_used": None, "stream_format": "", "stream_max_bitrate": 0}
    iso = lambda value: value.isoformat() if value else None  # noqa: E731
    return {
        "username": user.get_username(),
        "password": decrypt(credential.password_encrypted),
        "api_key_set": bool(credential.api_key_hash),
        "api_key_hint": credential.api_key_hint,
        "created": iso(credential.created),
        "updated": iso(credential.updated),
        "last_used": iso(credential.last_used),
        "stream_format": credential.stream_format,
        "stream_max_bitrate": credential.stream_max_bitrate,
    }


def touch(credential: SubsonicCredential) -> None:
    """Record a use (at most every ``LAST_USED_RESOLUTION``, to keep requests read-only)."""
    now = timezone.now()
    if credential.last_used is None or now - credential.last_used > LAST_USED_RESOLUTION:
        SubsonicCredential.objects.filter(pk=credential.pk).update(last_used=now)
