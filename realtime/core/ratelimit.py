"""Token buckets for flood control, and counters shared through the cache."""

import math
import time

from django.core.cache import cache


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per frame."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are enough; False means over the limit."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available again."""
        return max(0.0, (cost - self.tokens) / self.rate)


def count_in_window(key: str, window: float) -> int:
    """Count one more event under ``key``, whose count ends ``window`` s after
    its first event; the count so far. Atomic where cache.add and cache.incr
    are (Redis; the local-memory cache within one process)."""
    timeout = max(1, math.ceil(window))
    for _ in range(3):
        if cache.add(key, 1, timeout):
            return 1
        try:
            count = cache.incr(key)
        except ValueError:  # the window ended between add and incr
            continue
        if count == 1:  # ended just before INCR, which made a key for good
            cache.touch(key, timeout)
        return count
    return 1
