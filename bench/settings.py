"""Settings of the benchmarked daphne processes: the project's, plus two switches.

BENCH_LAYER_DEFAULTS=1 gives the channel layer the library's default options
(what a user of stock Channels would deploy) instead of Duplex's tuned ones.
"""

import os

from project.settings import *  # noqa: F403
from project.settings import CHANNEL_LAYERS, REDIS_URLS

if os.environ.get("BENCH_LAYER_DEFAULTS") == "1":
    if REDIS_URLS:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": REDIS_URLS,
                    "prefix": os.environ.get("REDIS_PREFIX", "duplex"),
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
        }
