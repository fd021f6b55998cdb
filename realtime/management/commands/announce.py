"""Show an announcement on every open page, in every process."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from realtime.core import fanout
from realtime.site.protocol import TOPIC, announcement


class Command(BaseCommand):
    help = "Publish a site-wide announcement to every open page."

    def add_arguments(self, parser):
        parser.add_argument("text")

    def handle(self, *args, text, **options):
        fanout.publish(TOPIC, dict(announcement(text, timezone.now().isoformat())))
        self.stdout.write("Announced.")
