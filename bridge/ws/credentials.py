"""The credential watch: connections whose token or session stopped being valid while
connected are closed with 4401 (``AuthWatch``), and a connection whose user's staff flag
changed rechecks its access.

The session checks follow Django's own session authentication (the session exists and
has not expired, it is logged in as that user, the user is active, the session's auth
hash matches the user's), batched for all of this process's connections.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authtoken.models import Token

from common.clients import run_sync

from . import CLOSE_UNAUTHENTICATED, STATS

logger = logging.getLogger(__name__)


def auth_recheck_seconds() -> float:
    """WS_AUTH_RECHECK: seconds between checks that connections' tokens and sessions are still valid (default 30)."""
    return max(0.5, float(settings.WS_AUTH_RECHECK))


RECHECK_CHUNK = 500  # keys per query


def _valid_tokens(keys: list[str]) -> set[str]:
    valid: set[str] = set()
    for start in range(0, len(keys), RECHECK_CHUNK):
        chunk = keys[start:start + RECHECK_CHUNK]
        valid.update(Token.objects.filter(key__in=chunk, user__is_active=True).values_list("key", flat=True))
    return valid


def _session_data(keys: list[str]) -> dict[str, dict | None]:
    """The data of those of these sessions that still exist and have not expired.

    The database engine (``django.contrib.sessions.backends.db``, ``cached_db`` and their
    subclasses, whose database row is the authority) is read in one query per
    ``RECHECK_CHUNK`` keys; any other engine through its ``SessionStore`` API, one key at
    a time. Errors reading the store propagate (the caller then closes nothing). A key
    absent from the result is gone; one whose state could not be told maps to ``None``.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict | None] = {}
    if issubclass(store_class, DatabaseStore):
        model = store_class.get_model_class()
        decoder = store_class()
        now = timezone.now()
        for start in range(0, len(keys), RECHECK_CHUNK):
            chunk = keys[start:start + RECHECK_CHUNK]
            rows = model.objects.filter(session_key__in=chunk, expire_date__gt=now).values_list("session_key", "session_data")
            for key, data in rows:
                found[key] = decoder.decode(data)
        return found
    for key in keys:
        data = store_class(session_key=key).load()  # {} when missing or expired
        if data:
            found[key] = data
        elif store_class().exists(key):
            # Some engines (cache) answer {} when their backend fails; exists() raises then,
            # or says the session is there: either way, not a reason to close anything.
            found[key] = None
    return found


def _valid_sessions(watched: list[tuple[str, Any]]) -> set[tuple[str, Any]]:
    """Which (session key, user id) pairs still authenticate that user, as Django's own
    session authentication would: the session exists and has not expired, it is logged
    in as that user, the user is active, and the session's auth hash still matches the
    user's (it changes with the password). Sessions whose state could not be read count
    as valid until the next round."""
    found = _session_data(sorted({key for key, _ in watched}))
    user_model = get_user_model()
    users: dict[Any, Any] = {}
    user_ids = sorted({user_id for _, user_id in watched}, key=str)
    for start in range(0, len(user_ids), RECHECK_CHUNK):
        chunk = user_ids[start:start + RECHECK_CHUNK]
        users.update((user.pk, user) for user in user_model._default_manager.filter(pk__in=chunk, is_active=True))

    valid: set[tuple[str, Any]] = set()
    for key, user_id in watched:
        if key not in found:
            continue  # logged out, deleted or expired
        data = found[key]
        if data is None:
            valid.add((key, user_id))  # unknown this round
            continue
        try:
            if user_model._meta.pk.to_python(data.get(SESSION_KEY)) != user_id:
                continue  # logged out, or now someone else's session
        except ValidationError:
            continue
        user = users.get(user_id)
        if user is None:
            continue  # deactivated or deleted
        if hasattr(user, "get_session_auth_hash"):
            stored = data.get(HASH_SESSION_KEY)
            if not stored:
                continue
            hashes = [user.get_session_auth_hash()]
            if hasattr(user, "get_session_auth_fallback_hash"):  # SECRET_KEY_FALLBACKS
                hashes.extend(user.get_session_auth_fallback_hash())
            if not any(constant_time_compare(stored, current) for current in hashes):
                continue  # the password changed (or the session was tampered with)
        valid.add((key, user_id))
    return valid


def _staff_flags(user_ids: list[Any]) -> dict[Any, bool]:
    """``is_staff`` of these users as stored now (absent: deleted)."""
    flags: dict[Any, bool] = {}
    for start in range(0, len(user_ids), RECHECK_CHUNK):
        chunk = user_ids[start:start + RECHECK_CHUNK]
        flags.update(get_user_model()._default_manager.filter(pk__in=chunk).values_list("pk", "is_staff"))
    return flags


def _recheck(token_keys: list[str], sessions: list[tuple[str, Any]], user_ids: list[Any] = ()
             ) -> tuple[set[str] | None, set[tuple[str, Any]] | None, dict[Any, bool] | None]:
    """One round of ``AuthWatch``, in one worker thread: the still-valid tokens and
    (session key, user id) pairs, and the users' staff flags; None for a kind whose check
    failed (logged)."""
    tokens = valid_sessions = staff = None
    try:
        tokens = _valid_tokens(token_keys) if token_keys else set()
    except Exception as exc:
        logger.warning("could not recheck connection tokens (%s)", exc)
    try:
        valid_sessions = _valid_sessions(sessions) if sessions else set()
    except Exception as exc:
        logger.warning("could not recheck connection sessions (%s)", exc)
    try:
        staff = _staff_flags(list(user_ids)) if user_ids else {}
    except Exception as exc:
        logger.warning("could not recheck connection users' staff flags (%s)", exc)
    return tokens, valid_sessions, staff


class AuthWatch:
    """Closes (4401) connections whose credentials stopped being valid while connected.

    Token connections: the token was deleted or its user deactivated. Browser (session)
    connections: the session was logged out, deleted or expired, its user deactivated, or
    the user's password changed (the session's auth hash no longer matches, as in Django's
    own session authentication). A connection whose user's staff flag changed (also
    through ``QuerySet.update()``, which sends no signal to ``tracker.access``) rechecks its
    access at once. One check per ``WS_AUTH_RECHECK`` seconds for all of
    this process's connections, batched (one query per 500 tokens, and for the database
    session engine one per 500 sessions plus one for their users); a check that fails
    closes nothing and is retried next round. Closures count in ``STATS["closed_revoked"]``.
    """

    def __init__(self) -> None:
        self.consumers: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None

    def attach(self, consumer: Any) -> None:
        if not consumer.token_key and not consumer.session_key:
            return
        self.consumers.add(consumer)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(auth_recheck_seconds())
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("connection credentials recheck failed")

    async def check(self) -> None:
        """One round: close the connections whose token or session is no longer valid."""
        live = [c for c in list(self.consumers) if c.ready and not c.closing]
        if not live:
            return
        token_keys = sorted({c.token_key for c in live if c.token_key})
        sessions = sorted({(c.session_key, c.user.pk) for c in live if c.session_key and not c.token_key}, key=str)
        user_ids = sorted({c.user.pk for c in live}, key=str)
        try:
            tokens, valid_sessions, staff = await run_sync(_recheck, token_keys, sessions, user_ids)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("could not recheck connection credentials (%s)", exc)
            return
        for consumer in live:
            if not consumer.ready or consumer.closing:
                continue
            if staff is not None and consumer.user.pk in staff and staff[consumer.user.pk] != bool(consumer.user.is_staff):
                consumer.access_changed("account_changed")
            if consumer.token_key:
                if tokens is None or consumer.token_key in tokens:
                    continue
                logger.info("closing a connection whose token was revoked")
            else:
                if valid_sessions is None or (consumer.session_key, consumer.user.pk) in valid_sessions:
                    continue
                logger.info("closing a connection whose session is no longer valid")
            STATS["closed_revoked"] += 1
            await consumer.close(code=CLOSE_UNAUTHENTICATED)


AUTH_WATCH = AuthWatch()
