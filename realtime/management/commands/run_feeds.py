"""Run the demo feeds as their own process (production)."""

import asyncio

from django.core.management.base import BaseCommand

from realtime.feeds import FEEDS, run_feeds


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
        asyncio.run(run_feeds(names))
