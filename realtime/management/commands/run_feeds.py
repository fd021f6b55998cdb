"""Run the demo feeds as their own process (production).

Start it on as many hosts as you like: one process leads and publishes, the
others stand by (realtime/feeds.py, ``lead_feeds``). SIGTERM or SIGINT stop
it cleanly, giving up the lead at once.
"""

import asyncio
import signal

from django.core.management.base import BaseCommand

from realtime.feeds import FEEDS, lead_feeds


class Command(BaseCommand):
    help = (
        "Run the market and match simulators; they publish through the channel layer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", help=f"Feeds to run (default: all of {list(FEEDS)})"
        )

    def handle(self, *args, names, **options):
        unknown = set(names) - set(FEEDS)
        if unknown:
            self.stderr.write(f"Unknown feed(s): {', '.join(sorted(unknown))}")
            raise SystemExit(2)
        self.stdout.write(f"Running feeds: {', '.join(names or FEEDS) or '(none)'}")
        asyncio.run(_until_stopped(names))
        self.stdout.write("Feeds stopped")


async def _until_stopped(names: list[str]) -> None:
    """``lead_feeds`` until SIGTERM or SIGINT cancels it."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await lead_feeds(names)
    except asyncio.CancelledError:
        pass
