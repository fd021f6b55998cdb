"""Redis connections behind the breaker: a server that does not answer is
waited for once, not once per retry and per command."""

import socket

import pytest
import redis
import redis.connection

from project.config import redis_resilience
from realtime.core import breaker


@pytest.fixture
def attempts(monkeypatch):
    """The connects that reach the network, counted."""
    made = []
    connect = redis.connection.Connection._connect

    def counted(self):
        made.append(self.port)
        return connect(self)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counted)
    breaker.reset()
    yield made
    breaker.reset()


@pytest.fixture
def silent_port():
    """A port whose accept queue is full: a connect to it times out, as one
    to a partitioned host does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = socket.create_connection(("127.0.0.1", port))
    yield port
    queued.close()
    server.close()


def client(port: int) -> redis.Redis:
    """A client with the options the cache uses (retries included)."""
    options = redis_resilience(for_asyncio=False)
    pool = redis.ConnectionPool(port=port, socket_connect_timeout=0.3, **options)
    return redis.Redis(connection_pool=pool)


def test_a_silent_server_is_tried_once_then_fails_at_once(attempts, silent_port):
    """The first command's connect times out once (its retries do not wait
    again); the next command fails without touching the network."""
    with pytest.raises(
        (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    ):
        client(silent_port).get("key")
    assert attempts == [silent_port]
    with pytest.raises(redis.exceptions.ConnectionError, match="did not answer"):
        client(silent_port).get("key")
    assert attempts == [silent_port]


def test_a_refused_connection_is_retried_as_before(attempts):
    """A port that refuses (a Redis restarting) opens no breaker: every
    command tries again, so Redis is used as soon as it is back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(redis.exceptions.ConnectionError):
            client(port).get("key")
        first = len(attempts)
        with pytest.raises(redis.exceptions.ConnectionError):
            client(port).get("key")
    assert first > 0 and len(attempts) == 2 * first
