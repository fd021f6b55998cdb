"""The threads a process' database calls run on.

Every ``database_sync_to_async`` call of every socket of a process runs on
asgiref's one thread-sensitive thread, one after another. That keeps writes
in order (a ``chat.send``'s commit, then its publish) and is kept for them.
But in a join storm the reads of a handshake and join (the session and its
user, the room and the user's ban, the mute and the read mark) queued there
behind each other: that thread was busy 85% of a 3,000-user room join, most
of it waiting for PostgreSQL and Redis to answer (docs/performance.md,
"Joins on reader threads").

``reads(func)`` runs a read-only call on ``READERS`` instead: a small pool of
``DUPLEX_DB_READERS`` threads (default 4), each with its own kept database
connection, so the waits of several joins overlap. A function given to it
must not need a transaction shared with other calls, nor order against the
socket's writes.

Both executors are ``TrackedExecutor``\\ s: the graceful shutdown waits for
their unfinished calls (``realtime.core.lifecycle``).
"""

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.db import connections

READER_THREADS = 4


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that knows how much of its work is unfinished.

    ``lifecycle.install`` puts one in place of
    ``SyncToAsync.single_thread_executor`` (the one thread-sensitive thread),
    so the drain can wait for those calls to finish; ``READERS`` is another.
    """

    def __init__(self, max_workers: int = 1, thread_name_prefix: str = ""):
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.unfinished: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self.unfinished.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future) -> None:
        with self._lock:
            self.unfinished.discard(future)

    def cancel_waiting(self) -> int:
        """Cancel the calls not started yet; how many were cancelled."""
        with self._lock:
            waiting = list(self.unfinished)
        return sum(future.cancel() for future in waiting)

    def close_connections(self, timeout: float = 10.0) -> None:
        """Close the database connection of every thread of the pool (tests:
        dropping the test database finds a connection still open otherwise)."""
        workers = self._max_workers
        barrier = threading.Barrier(workers, timeout=timeout)

        def close() -> None:
            # Each call holds its thread until all have one, so every thread
            # of the pool (started here if it was not yet) closes its own.
            barrier.wait()
            connections.close_all()

        for future in [self.submit(close) for _ in range(workers)]:
            future.result(timeout)


def _reader_threads() -> int:
    return max(1, int(os.environ.get("DUPLEX_DB_READERS") or READER_THREADS))


READERS = TrackedExecutor(_reader_threads(), thread_name_prefix="db-reader")


def reads(func):
    """``database_sync_to_async(func)`` on the reader threads, not the one
    thread every other call of the process queues on."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=READERS)
