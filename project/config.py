"""What ``settings.py`` is built from: reading the environment, and the
options of every Redis client (the cache, the channel layer, presence).

Tests and the bench build a channel layer on servers of their own with
``redis_channel_layer``, as the settings do for ``REDIS_URL``.
"""

import os

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def sentinel_address(item: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:26379`` for IPv6) as the pair redis-py takes."""
    host, colon, port = item.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ImproperlyConfigured(
            f"REDIS_SENTINELS: {item!r} is not host:port (e.g. 10.0.0.5:26379)."
        )
    return host.strip("[]"), int(port)


# A sentinel that does not answer is skipped for the next one, quickly.
REDIS_SENTINEL_TIMEOUTS = {"socket_timeout": 1, "socket_connect_timeout": 1}
# After a Redis restart, a connection left in a pool fails on its next use:
# PING it before a command when it has been idle this long, and retry a
# command that hit a dead connection on a fresh one (twice, 50-500 ms apart).
REDIS_HEALTH_CHECK_SECONDS = env_int("REDIS_HEALTH_CHECK_SECONDS", 10)


def redis_resilience(for_asyncio: bool, sentinel: bool = False) -> dict:
    """Connection options every Redis client of Duplex uses (cache, layer,
    presence): health checks and retries for connections a restart broke.

    Behind Sentinel the connection class stays Sentinel's own (it asks the
    sentinels for the master), so the connect breaker is not used there."""
    from redis.backoff import ExponentialBackoff

    from realtime.core import breaker

    if for_asyncio:
        from redis.asyncio.retry import Retry
    else:
        from redis.retry import Retry
    options = {
        "health_check_interval": REDIS_HEALTH_CHECK_SECONDS,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }
    if not sentinel:
        # A Redis that stopped answering (a partition, not a restart) fails
        # at once for a few seconds after a connect timed out.
        options["connection_class"] = (
            breaker.AsyncConnection if for_asyncio else breaker.Connection
        )
    return options


def redis_channel_layer(
    urls: list[str], prefix: str, *, sentinels=(), master: str = ""
) -> dict:
    """The channel layer over Redis: channels-redis' pub/sub layer, on the
    servers ``urls`` or on the master Sentinel names.

    Its only traffic is the fan-out (consumers have no layer channel): one hub
    per process subscribes to each topic's group, and a publish is a single
    PUBLISH that Redis pushes to every subscribed process. channels-redis'
    list-based ``RedisChannelLayer`` costs a publish two round trips and each
    process four more per message it receives (measured in
    docs/performance.md); it queues for absent consumers, which a hub never is.
    """
    # A publish to a Redis that stopped answering fails after 5 s instead of
    # hanging; a refused connection fails at once, and one on a LAN that
    # takes over a second is an outage.
    options = {
        "socket_timeout": 5,
        "socket_connect_timeout": 1,
        **redis_resilience(for_asyncio=True, sentinel=bool(master)),
    }
    if master:
        where = [
            {
                "master_name": master,
                "sentinels": list(sentinels),
                "sentinel_kwargs": REDIS_SENTINEL_TIMEOUTS,
            }
        ]
    else:
        where = [{"address": url} for url in urls]
    # Synchronous code publishes from its own thread on these (the same
    # servers, redis-py's synchronous classes): realtime/core/fanout/direct.py.
    sync_options = {
        **options,
        **redis_resilience(for_asyncio=False, sentinel=bool(master)),
    }
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{**host, **options} for host in where],
            "prefix": prefix,
        },
        "SYNC_HOSTS": [{**host, **sync_options} for host in where],
    }
