"""Create the demo's data and an admin account, and print how to log in."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from realtime.demo import SEEDERS


class Command(BaseCommand):
    help = "Seed rooms, instruments, matches and an admin account (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--admin", default="admin", help="Admin username.")

    def handle(self, *args, admin, **options):
        if not settings.DEBUG and not os.environ.get("DUPLEX_ADMIN_PASSWORD"):
            raise CommandError("With DEBUG off, set DUPLEX_ADMIN_PASSWORD explicitly.")
        for seed in SEEDERS:
            self.stdout.write(seed())
        password = os.environ.get("DUPLEX_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(
            username=admin, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin account: {admin} / {password}  (log in at /admin/; "
                "a new password is set on each run)"
            )
        )
