"""The demo's data sources: simulators that publish like a real feed would.

Each feature that has a feed adds a coroutine factory to ``FEEDS``. In
development ``manage.py serve`` runs them inside the web process; in
production ``manage.py run_feeds`` runs them as their own process, and every
web process receives their publishes through the channel layer.

Exactly one ``run_feeds`` may publish: ``lead_feeds`` elects it with a
PostgreSQL session-level advisory lock held on a connection of its own for as
long as it leads. Other ``run_feeds`` processes stand by, trying the lock
every second; the lock dies with its session, so a killed leader (even by
SIGKILL) is replaced within about a second of PostgreSQL noticing. The leader
checks every second that its session still holds the lock, and stops its
feeds at once when it cannot tell (the connection dropped, a check timed
out): a leader that lost its database never publishes next to a new one.
docs/deploy.md ("The feed process") describes the operator's side.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

import psycopg
from asgiref.sync import sync_to_async

log = logging.getLogger(__name__)

# name -> coroutine factory; each coroutine runs until cancelled.
FEEDS: dict[str, Callable[[], Awaitable[None]]] = {}


async def run_feeds(names: list[str] | None = None) -> None:
    """Run the chosen feeds (all by default), restarting one that crashes."""
    chosen = {name: FEEDS[name] for name in (names or FEEDS)}
    await asyncio.gather(
        *(_supervise(name, factory) for name, factory in chosen.items())
    )


async def _supervise(name: str, factory) -> None:
    while True:
        try:
            await factory()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Feed %s crashed; restarting in 1 s", name)
            await asyncio.sleep(1)


# pg_try_advisory_lock's key: "DUPX". One per database, so one leader per site.
FEED_LOCK_KEY = 0x44555058
POLL_SECONDS = 1.0  # a standby's tries, and the leader's checks, of the lock
CHECK_TIMEOUT = 3.0  # a check not answered by then counts as a lost lock
STOP_TIMEOUT = 5.0  # wait this long for the feeds' last writes when stopping
# The lock's server session notices a vanished peer in about 11 s, not hours.
KEEPALIVES = "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2"
KEEPALIVES += " -c tcp_keepalives_count=3"
_LOCK_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1"
)


class FeedLock:
    """The leader's advisory lock, on a PostgreSQL connection of its own."""

    def __init__(self, key: int = FEED_LOCK_KEY):
        self.key = key
        self.connection = None

    def _params(self) -> dict:
        from django.db import connections

        params = connections.create_connection("default").get_connection_params()
        for django_only in ("context", "cursor_factory", "prepare_threshold"):
            params.pop(django_only, None)
        params.setdefault("options", KEEPALIVES)
        params.setdefault("connect_timeout", 3)
        params.setdefault("application_name", f"duplex run_feeds {os.getpid()}")
        return params

    async def try_acquire(self) -> bool:
        """Take the lock if no other session holds it; raises if unreachable."""
        if self.connection is None or self.connection.closed:
            self.connection = await psycopg.AsyncConnection.connect(
                **self._params(), autocommit=True
            )
        cursor = await self.connection.execute(
            "SELECT pg_try_advisory_lock(%s)", [self.key]
        )
        return (await cursor.fetchone())[0]

    async def held(self) -> bool:
        """Whether this session still holds the lock, as PostgreSQL says now."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                cursor = await self.connection.execute(_LOCK_HELD, [self.key])
                return (await cursor.fetchone())[0] == 1
        except (OSError, TimeoutError, psycopg.Error):
            return False

    async def close(self) -> None:
        """Drop the connection, and with it the lock if held."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CHECK_TIMEOUT)


async def lead_feeds(names: list[str] | None = None) -> None:
    """Run the feeds while this process is the elected leader (run_feeds)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        log.warning(
            "Feed leader: no PostgreSQL, so no election; running the feeds "
            "unguarded (run exactly one run_feeds)"
        )
        await run_feeds(names)
        return
    lock = FeedLock()
    try:
        while True:
            await _wait_for_leadership(lock)
            if await _lead(lock, names):
                return  # the feeds ended by themselves
            await lock.close()
    finally:
        await lock.close()


async def _wait_for_leadership(lock: FeedLock) -> None:
    """Try the lock every POLL_SECONDS until it is ours; log each change once."""
    state = None
    while True:
        try:
            if await lock.try_acquire():
                log.info("Feed leader: pid %d holds the feed lock", os.getpid())
                return
            if state != "standby":
                log.info(
                    "Feed standby: pid %d waits, another run_feeds leads; "
                    "trying the lock every %.0f s",
                    os.getpid(),
                    POLL_SECONDS,
                )
            state = "standby"
        except (OSError, psycopg.Error) as error:
            await lock.close()
            if state != "unreachable":
                log.warning("Feed lock: database unreachable (%s); retrying", error)
            state = "unreachable"
        await asyncio.sleep(POLL_SECONDS)


async def _lead(lock: FeedLock, names) -> bool:
    """Run the feeds until they end (True) or the lock is lost (False)."""
    from django.db import close_old_connections

    # The feeds' own connection may have died with the last leadership.
    await sync_to_async(close_old_connections)()
    feeds = asyncio.ensure_future(run_feeds(names))
    try:
        while True:
            done, _ = await asyncio.wait({feeds}, timeout=POLL_SECONDS)
            if done:
                return True
            if not await lock.held():
                log.error(
                    "Feed leader: lost the lock (its database connection is "
                    "gone); stopping the feeds and standing for election again"
                )
                return False
    finally:
        feeds.cancel()
        await asyncio.wait({feeds}, timeout=STOP_TIMEOUT)
        if feeds.done() and not feeds.cancelled() and feeds.exception():
            log.error("Feeds stopped with an error", exc_info=feeds.exception())


def _matches():
    from realtime.scores import feed as matches

    return matches.run()


FEEDS["matches"] = _matches


def _market():
    from realtime.quotes.feed import run_market

    return run_market()


FEEDS["market"] = _market
