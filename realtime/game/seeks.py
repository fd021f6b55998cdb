"""Quick pairing: the seek pool.

A player seeks with a time control from a lobby socket; a second seek with
the same clock, increment and rating choice is paired with the oldest such
seek at once: a new game starts (colours drawn by lot) and both sockets get
``lobby.paired``, the waiting one through its own topic (``seek_topic``).

Seeks live in the database (``Seek``), so seekers on any daphne process
meet. Pairing takes a transaction-scoped advisory lock per time control on
PostgreSQL, so two seeks arriving together cannot both wait unpaired; SQLite
(one process, ``make run``) serialises writers by itself. Bounded: one seek per
user (a new one replaces the old, whose socket is told), and a seek is
deleted when its socket closes.
"""

import random

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from realtime.core import fanout
from realtime.game.events import publish_lobby
from realtime.game.protocol import LOBBY_TOPIC
from realtime.game.service import start
from realtime.models import Game, Seek

LOCK_CLASS = 0x5EE  # the advisory lock's first key: the seek pool's


def seek_topic(socket: str) -> str:
    """The topic a seeking lobby socket follows to hear that it was paired."""
    return f"game.seek.{socket}"


def _lock_pool(clock_ms, increment_ms, rated) -> None:
    if connection.vendor == "postgresql":
        key = ((clock_ms or 0) // 1000) * 1000 + increment_ms // 1000 * 2 + rated
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, key])


def seek(
    user,
    socket: str,
    *,
    clock_minutes: int,
    increment_seconds: int,
    rated: bool,
    online: set[int],
):
    """Seek a game; the new game's id if a waiting seek matched, else None.

    ``online`` are the ids of users with a game page open (presence): a seek
    of anyone else outlived its socket (its process died without closing it)
    and is dropped rather than paired with.
    """
    clock_ms = clock_minutes * 60000 or None
    increment_ms = increment_seconds * 1000 if clock_ms else 0
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        _drop_own(user, socket)
        _lock_pool(clock_ms, increment_ms, rated)
        same = Seek.objects.filter(
            clock_ms=clock_ms, increment_ms=increment_ms, rated=rated
        ).exclude(user=user)
        same.exclude(user_id__in=online).delete()
        waiting = same.select_related("user").first()
        if waiting is None:
            Seek.objects.create(
                user=user,
                socket=socket,
                clock_ms=clock_ms,
                increment_ms=increment_ms,
                rated=rated,
            )
            publish_pool()
            return None
        waiting.delete()
        game = _pair(waiting, user)
        fanout.publish_on_commit(
            seek_topic(waiting.socket), {"type": "lobby.paired", "id": game.pk}
        )
        publish_pool()
        return game.pk


def _drop_own(user, socket: str) -> None:
    """One seek per user: an earlier one (maybe another tab's) is replaced."""
    old = Seek.objects.filter(user=user).first()
    if old is None:
        return
    old.delete()
    if old.socket != socket:
        fanout.publish_on_commit(
            seek_topic(old.socket), {"type": "lobby.seeking", "seek": None}
        )


def _pair(waiting: Seek, user) -> Game:
    black, white = random.sample([waiting.user, user], 2)
    game = Game(
        black=black,
        white=white,
        clock_ms=waiting.clock_ms,
        increment_ms=waiting.increment_ms,
        rated=waiting.rated,
        seq=1,
    )
    start(game, timezone.now())
    game.save()
    publish_lobby(game)
    return game


def cancel(socket: str) -> bool:
    """Drop the seek made from ``socket`` (cancelled, or its socket closed)."""
    with transaction.atomic():
        deleted, _ = Seek.objects.filter(socket=socket).delete()
        if deleted:
            publish_pool()
    return bool(deleted)


def pool() -> list[dict]:
    """The seeks waiting, grouped by time control, for the lobby."""
    groups = (
        Seek.objects.values("clock_ms", "increment_ms", "rated")
        .annotate(count=Count("id"))
        .order_by("clock_ms", "increment_ms", "rated")
    )
    return [
        {
            "clock": (row["clock_ms"] or 0) // 60000,
            "increment": row["increment_ms"] // 1000,
            "rated": row["rated"],
            "count": row["count"],
        }
        for row in groups[:50]
    ]


def publish_pool() -> None:
    """The lobby's list of seeks, after commit (conflated: the newest wins)."""

    def send():
        event = {"type": "lobby.seeks", "seeks": pool()}
        fanout.publish(LOBBY_TOPIC, event, key="seeks")

    transaction.on_commit(send)
