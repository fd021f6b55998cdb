"""One object per running event loop: a hub, a presence registry, a watcher.

Under daphne a process runs one event loop, so each of these is one per
process; tests run one loop per test and switch settings between them, so an
object never outlives its loop (the map holds loops weakly) and ``clear``
forgets them all.
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._objects: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        """The running loop's object, made on first use."""
        loop = asyncio.get_running_loop()
        found = self._objects.get(loop)
        if found is None:
            found = self._objects[loop] = self._factory()
        return found

    def current(self) -> T | None:
        """The running loop's object if it has one, without making it."""
        return self._objects.get(asyncio.get_running_loop())

    def all(self) -> list[T]:
        """Every loop's object."""
        return list(self._objects.values())

    def clear(self) -> None:
        """Forget every loop's object."""
        self._objects.clear()
