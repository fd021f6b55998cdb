"""One Redis connection pool per process for Django's cache, not one per socket.

Django keeps a cache object per async context (``caches`` is context-local),
and its Redis backend makes a connection pool per cache object. Under
Channels every consumer is a context of its own, so each socket's first
session load (or flood check) made a pool and a new Redis connection, with
its connect and health-check round trips, on the one thread that carries
every socket's database work; and the connection stayed open as long as the
socket: a process with 4,000 sockets held about 4,000 Redis connections.
``SharedConnectionPool.from_url`` hands every cache object of the process the
same pool for the same server and options (redis-py pools are thread-safe).

No Django imports: project/settings.py names this class.
"""

import threading

import redis

_pools: dict[tuple, redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    """A ``ConnectionPool`` whose ``from_url`` reuses the process' pool."""

    @classmethod
    def from_url(cls, url: str, **kwargs) -> redis.ConnectionPool:
        # The options come from settings, the same objects for every cache
        # object: their reprs (with ids, for objects) tell them apart.
        key = (cls, url, repr(sorted(kwargs.items())))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = super().from_url(url, **kwargs)
            return pool
