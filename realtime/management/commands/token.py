"""Print a new personal access token for a user (shown once; only its hash is kept)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from realtime.tokens import service


class Command(BaseCommand):
    help = (
        "Create a personal access token for USERNAME and print it. Clients send "
        "it as 'Authorization: Bearer <token>' (docs/protocol.md, Tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what it is for")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(
                f"{username!r} is deactivated; its tokens would not work."
            )
        try:
            _, token = service.create_token(user=user, name=name)
        except ValueError as problem:
            raise CommandError(str(problem)) from problem
        self.stdout.write(token)
