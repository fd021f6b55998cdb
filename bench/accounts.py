"""The product scenarios' people: users, logged-in sessions and a room, in bulk.

    python -m bench.accounts setup --users N --room SLUG --out FILE
    python -m bench.accounts cleanup --room SLUG --sessions FILE

Runs as a Django process of its own (the bench's settings, the database of
``DATABASE_URL``, created and migrated if needed) so the load client never
imports Django. Users ``crowd-00001``... are created once and kept; each run
gets fresh sessions (rows written straight into the session table and the
session cache, as the login view would write them) and a room of its own,
all removed by ``cleanup``. ``setup`` writes
``{"cookie": NAME, "sessions": [key, ...]}``.
"""

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import django

BATCH = 1000


def ensure_database(url: str) -> None:
    """Create the database of ``url`` if PostgreSQL does not have it yet."""
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_users(count: int) -> list:
    """Users crowd-00001 ... crowd-<count>, with unusable passwords."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    names = [f"crowd-{n:05d}" for n in range(1, count + 1)]
    existing = User.objects.filter(username__in=names)
    have = set(existing.values_list("username", flat=True))
    unusable = make_password(None)
    missing = [User(username=n, password=unusable) for n in names if n not in have]
    User.objects.bulk_create(missing, batch_size=BATCH, ignore_conflicts=True)
    by_name = {u.username: u for u in User.objects.filter(username__in=names)}
    return [by_name[n] for n in names]


def new_sessions(users: list) -> list[str]:
    """One logged-in session per user, as ``django.contrib.auth.login`` saves it:
    the row, and the site's session cache (``cached_db`` writes both)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    backend = settings.AUTHENTICATION_BACKENDS[0]
    expires = timezone.now() + timedelta(days=1)
    rows, keys, cached = [], [], {}
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data),
                            expire_date=expires))  # fmt: skip
        keys.append(key)
        cached[KEY_PREFIX + key] = data
    Session.objects.bulk_create(rows, batch_size=BATCH)
    cache = caches[settings.SESSION_CACHE_ALIAS]
    items = list(cached.items())
    for start in range(0, len(items), BATCH):
        cache.set_many(dict(items[start : start + BATCH]), timeout=86400)
    return keys


def setup(args) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from realtime.chat.models import Room

    call_command("migrate", verbosity=0, interactive=False)
    users = ensure_users(args.users)
    keys = new_sessions(users)
    Room.objects.get_or_create(slug=args.room, defaults={"name": args.room})
    result = {"cookie": settings.SESSION_COOKIE_NAME, "sessions": keys}
    Path(args.out).write_text(json.dumps(result))


def cleanup(args) -> None:
    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.models import Session
    from django.core.cache import caches

    from realtime.chat.models import Room

    keys = json.loads(Path(args.sessions).read_text())["sessions"]
    cache = caches[settings.SESSION_CACHE_ALIAS]
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        Session.objects.filter(session_key__in=batch).delete()
        cache.delete_many([KEY_PREFIX + key for key in batch])
    Room.objects.filter(slug=args.room).delete()


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accounts")
    parser.add_argument("action", choices=["setup", "cleanup"])
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--room", required=True)
    parser.add_argument("--out")
    parser.add_argument("--sessions")
    args = parser.parse_args(argv)
    if args.action == "setup":
        ensure_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    setup(args) if args.action == "setup" else cleanup(args)


if __name__ == "__main__":
    main(sys.argv[1:])
