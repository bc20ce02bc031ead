"""Subsonic sign-in time for a wrong password: existing user vs unknown user (``manage.py bench subsonic-auth``).

On a throwaway test database (Django's test database for the configured engine), with one
user holding a Subsonic password, it times ``bridge.subsonic.auth._authenticate`` (the
credential check without the lockout) for a wrong password of that user and for an unknown
username, alternating the two so that drift hits both alike, with the clear password (``p``)
and with a token (``t`` + ``s``). It prints the mean and median per path and their difference:
goal, a difference within the noise (the unknown path decrypts a dummy ciphertext, so both do
the same work).
"""
from __future__ import annotations

import statistics
import time
from typing import Any


def add_arguments(parser) -> None:
    parser.add_argument("--calls", type=int, default=3000, help="timed calls per path and form (default 3000)")


def _time(call, params) -> float:
    from bridge.subsonic.responses import SubsonicError

    started = time.perf_counter()
    try:
        call(params)
    except SubsonicError:
        pass
    return time.perf_counter() - started


def run(options: dict[str, Any], out) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from bridge.subsonic import credentials
    from bridge.subsonic.auth import _authenticate

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = get_user_model().objects.create_user("bench-known", password="unused-login-password")
        credentials.password_reset(user)
        forms = {
            "p": lambda username: {"u": username, "p": "not-the-password"},
            "t+s": lambda username: {"u": username, "t": "0" * 32, "s": "salt01"},
        }
        out.write(f"Subsonic wrong-password check, {options['calls']} calls per path ({connection.vendor}), in µs:")
        for form, make in forms.items():
            known, unknown = make("bench-known"), make("bench-unknown")
            for _ in range(200):  # warm up: connection, statement cache, the dummy ciphertext
                _time(_authenticate, known), _time(_authenticate, unknown)
            times = {"existing user": [], "unknown user": []}
            for _ in range(options["calls"]):
                times["existing user"].append(_time(_authenticate, known))
                times["unknown user"].append(_time(_authenticate, unknown))
            means = {path: statistics.fmean(values) * 1e6 for path, values in times.items()}
            for path, values in times.items():
                out.write(f"  {form:4} {path:14} mean {means[path]:7.1f}  median {statistics.median(values) * 1e6:7.1f}")
            out.write(f"  {form:4} difference     mean {means['existing user'] - means['unknown user']:+7.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
