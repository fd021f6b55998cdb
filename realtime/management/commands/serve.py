"""Run the site on daphne, with the demo feeds inside the same process."""

import asyncio

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Duplex with daphne; the market and match feeds run embedded."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-feeds", action="store_true", help="Do not embed the feeds."
        )

    def handle(self, *args, host, port, no_feeds, **options):
        # daphne installs Twisted's asyncio reactor on import: import it first.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import reactor

        from project.asgi import application
        from realtime.feeds import FEEDS, run_feeds

        if not no_feeds and FEEDS:
            reactor.callWhenRunning(lambda: asyncio.ensure_future(run_feeds()))
            self.stdout.write(f"Feeds embedded: {', '.join(FEEDS)}")
        self.stdout.write(f"Duplex on http://{host}:{port}/ (Ctrl-C stops it)")
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
        ).run()
