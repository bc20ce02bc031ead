"""The real services integration tests use, from ``REDIS_URL`` and ``DATABASE_URL``.

Without them, those tests skip and say why; ``.ci/run`` sets both, so CI runs them all.
"""
from __future__ import annotations

import pytest
from django.conf import settings

REDIS_URL: str = settings.INTEGRATION_REDIS_URL
DATABASE_URL: str = settings.INTEGRATION_DATABASE_URL
POSTGRES_URL: str = DATABASE_URL if DATABASE_URL.startswith(("postgres://", "postgresql://")) else ""

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: this test needs a Redis server")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="DATABASE_URL is not set to PostgreSQL: this test needs one")
