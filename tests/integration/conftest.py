import pytest

from tests.services import POSTGRES_URL, REDIS_URL

from devtools.deploy import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Two bridges and one worker on Redis and PostgreSQL, shared by a test module."""
    if not (POSTGRES_URL and REDIS_URL):
        pytest.skip("DATABASE_URL (PostgreSQL) and REDIS_URL are not both set: multi-process tests need them")
    stack = Stack(POSTGRES_URL, REDIS_URL, tmp_path_factory.mktemp("stack")).create()
    try:
        stack.start_bridge("bridge-a")
        stack.start_bridge("bridge-b")
        stack.start_worker("worker-1")
        stack.wait_healthy("bridge-a")
        stack.wait_healthy("bridge-b")
        yield stack
    finally:
        stack.destroy()
