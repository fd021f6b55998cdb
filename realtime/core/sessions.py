"""Sockets close when their session ends, in every process.

Each process follows one topic, ``auth.logout``, however many sockets it
holds. A logout publishes one control event naming a hash of the session; a
password change or a deactivation publishes one naming the user and a digest
of the new session auth hash (Django's ``get_session_auth_hash``, which the
session stores at login). Each process closes its own sockets concerned with
4009: those of the session that logged out, or those of the user opened under
another auth hash (every one, when the account was deactivated). The delay is
that of a publish: well under a second (docs/protocol.md).
"""

import hashlib
import weakref
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from realtime.core import auth, fanout
from realtime.core.envelope import CloseCode
from realtime.core.perloop import PerLoop

TOPIC = "auth.logout"
LOGGED_OUT = "You logged out."
PASSWORD_CHANGED = "Your password changed; log in again."
DEACTIVATED = "Your account was deactivated."


def session_hash(session_key: str | None) -> str | None:
    """What names a session on the wire and in logs: never the key itself."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def auth_digest(user) -> str:
    """What names a user's session auth hash on the wire: a digest of it."""
    return hashlib.sha256(user.get_session_auth_hash().encode()).hexdigest()[:32]


class _Watched(NamedTuple):
    session: str
    user: int
    auth: str


def _discard(index: dict, key, consumer) -> None:
    group = index.get(key)
    if group is not None:
        group.discard(consumer)
        if not group:
            del index[key]


class _Watcher:
    """The process' one subscriber of ``auth.logout`` (duck-typed as an Outbox).

    It holds the sockets that are open: ``unwatch`` drops a socket when it
    closes, and its session and user with it once their last socket is gone.
    """

    def __init__(self):
        self.seen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.sessions: dict[str, weakref.WeakSet] = {}
        self.users: dict[int, weakref.WeakSet] = {}
        self.joined = False

    def deliver(self, frame) -> None:  # no frames are published on this topic
        pass

    def add(self, consumer, watched: _Watched) -> None:
        self.seen[consumer] = watched
        self.sessions.setdefault(watched.session, weakref.WeakSet()).add(consumer)
        self.users.setdefault(watched.user, weakref.WeakSet()).add(consumer)

    def discard(self, consumer) -> None:
        watched = self.seen.pop(consumer, None)
        if watched is not None:
            _discard(self.sessions, watched.session, consumer)
            _discard(self.users, watched.user, consumer)

    def concerned(self, event: dict) -> tuple[list, str]:
        """The sockets an event closes, and the reason to give them."""
        if event.get("type") != "credentials":
            return list(self.sessions.get(event.get("session"), ())), LOGGED_OUT
        auth = event.get("auth")
        stale = [
            consumer
            for consumer in self.users.get(event.get("user"), ())
            if auth is None or getattr(self.seen.get(consumer), "auth", None) != auth
        ]
        return stale, PASSWORD_CHANGED if auth else DEACTIVATED

    async def on_control(self, topic: str, event: dict) -> None:
        auth.forget_users()  # a handshake now must not reuse the ended session
        consumers, reason = self.concerned(event)
        for consumer in consumers:
            self.discard(consumer)
            await consumer.close(CloseCode.LOGGED_OUT, reason)


_watchers = PerLoop(_Watcher)


async def watch(consumer, session_key: str | None, user) -> None:
    """Close ``consumer`` when its session ends; ``unwatch`` it on close.

    ``user`` is the scope's authenticated user, whose auth hash the session
    was checked against when the socket connected.
    """
    name = session_hash(session_key)
    if name is None:
        return
    watcher = _watchers.get()
    watcher.add(consumer, _Watched(name, user.pk, auth_digest(user)))
    if not watcher.joined:
        watcher.joined = True
        await fanout.get_hub().join(TOPIC, watcher)


def unwatch(consumer) -> None:
    """Forget a socket that closed (and its session, if it was the last one)."""
    watcher = _watchers.current()
    if watcher is not None:
        watcher.discard(consumer)


def watched() -> dict[str, int]:
    """How many sessions, users and sockets this process' watcher holds."""
    watcher = _watchers.current()
    if watcher is None:
        return {"sessions": 0, "users": 0, "sockets": 0}
    return {
        "sessions": len(watcher.sessions),
        "users": len(watcher.users),
        "sockets": len(watcher.seen),
    }


def reset_watchers() -> None:
    _watchers.clear()


@receiver(user_logged_out)
def close_sockets_of_the_session(sender, request, user, **kwargs):
    name = session_hash(getattr(getattr(request, "session", None), "session_key", None))
    if name is not None:
        fanout.publish_control(TOPIC, {"type": "logout", "session": name})


def _credentials(user) -> tuple:
    # From __dict__: reading a deferred field here would query the database.
    return user.__dict__.get("password"), user.__dict__.get("is_active")


@receiver(post_init, sender=settings.AUTH_USER_MODEL)
def remember_credentials(sender, instance, **kwargs):
    instance._duplex_credentials = _credentials(instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_sockets_of_changed_credentials(sender, instance, created, **kwargs):
    """A saved password change or deactivation closes the user's stale sockets
    (``QuerySet.update`` sends no signal: save the user instead)."""
    before = getattr(instance, "_duplex_credentials", None)
    after = instance._duplex_credentials = _credentials(instance)
    if created or kwargs.get("raw") or before is None or None in before:
        return
    if before != after:
        auth = auth_digest(instance) if instance.is_active else None
        event = {"type": "credentials", "user": instance.pk, "auth": auth}
        fanout.publish_control_on_commit(TOPIC, event)
