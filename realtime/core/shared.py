"""Reads a crowd shares: a thousand sockets joining one room within a moment
cost one read of its members or its latest messages, not a thousand.

A read is shared by every caller within ``fresh`` seconds of its start, per
event loop (one per daphne process). A read that failed is not shared: the
next caller tries again. A caller that must see what was committed after
some moment passes ``not_before``: a read started earlier is not shared
with it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from realtime.core.perloop import PerLoop

KEPT = 256  # reads kept per event loop before the stale ones are dropped


class SharedReads:
    def __init__(self, fresh: float):
        self.fresh = fresh
        self._loops: PerLoop[dict] = PerLoop(dict)

    async def get(
        self,
        key: Hashable,
        read: Callable[[], Awaitable[Any]],
        *,
        not_before: float = 0.0,
    ) -> Any:
        """``read()``'s result, or that of the same read started under ``fresh``
        ago (and at ``not_before``, a ``time.monotonic()``, or later)."""
        reads = self._loops.get()
        now = time.monotonic()
        cached = reads.get(key)
        if (
            cached is None
            or now - cached[0] > self.fresh
            or cached[0] < not_before
            or _failed(cached[1])
        ):
            if len(reads) >= KEPT:
                self._drop_stale(reads, now)
            cached = reads[key] = (now, asyncio.ensure_future(read()))
        return await asyncio.shield(cached[1])

    def _drop_stale(self, reads: dict, now: float) -> None:
        for key, (started, future) in list(reads.items()):
            if now - started > self.fresh and future.done():
                del reads[key]

    def clear(self) -> None:
        """Every next ``get`` reads again."""
        reads = self._loops.current()
        if reads is not None:
            reads.clear()

    def forget(self, key: Hashable) -> None:
        """The next ``get`` of ``key`` reads again."""
        reads = self._loops.current() or {}
        reads.pop(key, None)


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
