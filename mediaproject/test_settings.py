"""Settings for the in-process test suite: always the embedded stack.

The suite itself runs on SQLite and the in-memory channel layer whatever the
environment says, so every in-process test is deterministic. Tests that need PostgreSQL
or Redis (the integration tests) read ``DATABASE_URL`` and ``REDIS_URL`` themselves and
start real server processes on them; without those variables they skip, saying so.
"""
import os
import tempfile

# The services the integration tests may use, kept before the environment is cleared.
INTEGRATION_DATABASE_URL = os.environ.get("DATABASE_URL", "")
INTEGRATION_REDIS_URL = os.environ.get("REDIS_URL", "")
for _name in ("DATABASE_URL", "REDIS_URL", "WORKER_MODE", "SECRET_KEY", "DEBUG"):
    os.environ.pop(_name, None)
os.environ["DATA_DIR"] = os.environ.get("TEST_DATA_DIR") or tempfile.mkdtemp(prefix="music-test-data-")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WS_RATE_LIMIT = 1000.0
WS_RATE_BURST = 1000
# The embedded log tailer polls the database; tests that need it turn it on.
TRACKER_LOG_TAIL = False
# In-process tests close database connections after each use: pytest-django blocks
# database access in tests that do not ask for it, and a connection an executor thread
# kept from an earlier test would be checked there (and fail). The server processes the
# integration and browser tests start run with the real settings (persistent connections).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Nothing collected in-process: an empty STATIC_ROOT, so that WhiteNoise serves the source
# folders without warning about a missing one.
STATIC_ROOT = tempfile.mkdtemp(prefix="music-test-static-")
