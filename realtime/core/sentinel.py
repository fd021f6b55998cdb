"""Redis behind Sentinel, for the two clients channels-redis does not build.

With ``REDIS_SENTINELS`` set, no client holds the master's address: each new
connection asks the sentinels for the current master, so after a failover the
next connection (and every retried command) lands on the promoted replica.
channels-redis builds its own pools from ``master_name`` and ``sentinels``
host entries (project/settings.py); the cache and presence (its asyncio pool and its
thread's client) use this module.
"""

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.sentinel import Sentinel


def _sentinel_options() -> dict:
    return getattr(settings, "REDIS_SENTINEL_TIMEOUTS", {})


class SentinelCacheClient(RedisCacheClient):
    """Django's Redis cache client, its one server the master Sentinel names."""

    def __init__(self, servers, *, sentinels, **options):
        super().__init__(servers, **options)
        self._sentinels = [tuple(address) for address in sentinels]
        self._master = None

    def get_client(self, key=None, *, write=False):
        # Reads go to the master too: a replica may lag behind a write the
        # same request made (a session just saved, a flood counter).
        if self._master is None:
            sentinel = Sentinel(self._sentinels, sentinel_kwargs=_sentinel_options())
            self._master = sentinel.master_for(self._servers[0], **self._pool_options)
        return self._master


class SentinelRedisCache(RedisCache):
    """``LOCATION`` is the master's name; ``OPTIONS["sentinels"]`` the
    ``(host, port)`` pairs of the sentinels; the other options are Django's."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SentinelCacheClient


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool with ``BlockingConnectionPool``'s waiting: a caller
    finding every connection busy waits for one (up to ``timeout``)."""


def async_master_pool(sentinels, master: str, **options) -> BlockingSentinelPool:
    """An asyncio connection pool to ``master``, found through ``sentinels``."""
    sentinel = AsyncSentinel(
        [tuple(address) for address in sentinels], sentinel_kwargs=_sentinel_options()
    )
    return BlockingSentinelPool(master, sentinel, **options)


def master_client(sentinels, master: str, **options):
    """A synchronous client of ``master``, found through ``sentinels``."""
    sentinel = Sentinel(
        [tuple(address) for address in sentinels], sentinel_kwargs=_sentinel_options()
    )
    return sentinel.master_for(master, **options)
