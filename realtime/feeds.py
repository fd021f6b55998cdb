"""The demo's data sources: simulators that publish like a real feed would.

Each feature that has a feed adds a coroutine factory to ``FEEDS``. In
development ``manage.py serve`` runs them inside the web process; in
production ``manage.py run_feeds`` runs them as their own process, and every
web process receives their publishes through the channel layer.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

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


def _matches():
    from realtime.scores import feed as matches

    return matches.run()


FEEDS["matches"] = _matches


def _market():
    from realtime.quotes.feed import run_market

    return run_market()


FEEDS["market"] = _market
