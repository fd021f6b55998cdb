"""Fail fast on a Redis server that just failed to connect.

A Redis on another machine that stops answering (a partition, a dead switch)
does not refuse connections: each attempt waits out its connect timeout, and
redis-py's retries (per connection and per command) multiply that wait. Sync
callers (the cache, and so sessions, flood control and login throttling) run
on the one thread that carries every socket's database work, so a process
would stall for the length of the outage. After a connection attempt to a
server times out, further attempts to it fail at once for ``HOLD_SECONDS``;
then one goes through again. A refused connection fails at once by itself
and opens nothing (a restarting Redis is used again as soon as it is back).
Callers already fall back or answer "unavailable".

No Django imports: project/settings.py uses these classes.
"""

import time

import redis.asyncio.connection as async_connection
import redis.connection as sync_connection

HOLD_SECONDS = 3.0

_open_until: dict[tuple[str, int], float] = {}


class Unreachable(ConnectionError):
    """An OSError, as a failed connect is: redis-py turns it into its own
    ConnectionError, and does not retry the connect itself."""


def _check(host: str, port: int) -> None:
    if time.monotonic() < _open_until.get((host, port), 0.0):
        raise Unreachable(f"{host}:{port} did not answer moments ago")


def _failed(host: str, port: int) -> None:
    _open_until[(host, port)] = time.monotonic() + HOLD_SECONDS


def _answered(host: str, port: int) -> None:
    _open_until.pop((host, port), None)


def reset() -> None:
    """Forget every failure (tests)."""
    _open_until.clear()


class Connection(sync_connection.Connection):
    """redis-py's TCP connection, behind the breaker."""

    def _connect(self):
        _check(self.host, self.port)
        try:
            sock = super()._connect()
        except TimeoutError:  # socket.timeout is TimeoutError
            _failed(self.host, self.port)
            raise
        _answered(self.host, self.port)
        return sock


class AsyncConnection(async_connection.Connection):
    """redis-py's asyncio TCP connection, behind the breaker."""

    async def _connect(self):
        _check(self.host, self.port)
        try:
            await super()._connect()
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError
            _failed(self.host, self.port)
            raise
        _answered(self.host, self.port)
