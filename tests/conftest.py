"""Fixtures shared by every layer of tests."""

import os
import uuid

import pytest
from channels.layers import channel_layers

from realtime.fanout import reset_hubs
from tests.servers import DaphneProcess, server_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ORIGIN = "http://localhost"


@pytest.fixture(autouse=True)
def fresh_layers():
    """Each test's event loop gets its own channel layer and fan-out hub."""
    channel_layers.backends.clear()
    reset_hubs()
    yield
    channel_layers.backends.clear()
    reset_hubs()


@pytest.fixture
def origin_headers():
    return [(b"origin", ORIGIN.encode())]


@pytest.fixture
def live_database_url(transactional_db):
    """The test database as a URL that another process can open.

    Other processes see only committed rows, so tests using this run with
    ``transactional_db``.
    """
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail(
            "Integration tests need PostgreSQL: run them through `make test`, "
            "which sets DATABASE_URL=postgres://postgres@127.0.0.1:5432/duplex."
        )
    user = settings["USER"] or "postgres"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def redis_prefix():
    """A key prefix of its own, so tests never see each other's Redis data."""
    return f"duplex-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def daphne(live_database_url, redis_prefix, tmp_path):
    """Start daphne processes: ``daphne(redis=True, **env)``; stopped at teardown."""
    started: list[DaphneProcess] = []

    def start(redis: bool = True, **extra_env) -> DaphneProcess:
        env = server_env(
            live_database_url, REDIS_URL if redis else None, redis_prefix, **extra_env
        )
        server = DaphneProcess(env, tmp_path, name=f"daphne{len(started)}")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
