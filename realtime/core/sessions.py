"""Logging out closes the sockets that session opened, in every process.

Each process follows one topic, ``auth.logout``, however many sockets it
holds: a logout publishes one control event naming a hash of the session, and
each process closes its own sockets of that session with 4009 (logged out).
The delay is that of a publish: well under a second (docs/protocol.md).
"""

import asyncio
import hashlib
import weakref

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from realtime.core import fanout
from realtime.core.envelope import CloseCode

TOPIC = "auth.logout"


def session_hash(session_key: str | None) -> str | None:
    """What names a session on the wire and in logs: never the key itself."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


class _Watcher:
    """The process' one subscriber of ``auth.logout`` (duck-typed as an Outbox).

    It holds the sockets that are open: ``unwatch`` drops a socket when it
    closes, and a session with it once its last socket here is gone.
    """

    def __init__(self):
        self.sockets: dict[str, weakref.WeakSet] = {}
        self.joined = False

    def deliver(self, frame) -> None:  # no frames are published on this topic
        pass

    def add(self, consumer, name: str) -> None:
        self.sockets.setdefault(name, weakref.WeakSet()).add(consumer)

    def discard(self, consumer, name: str) -> None:
        sockets = self.sockets.get(name)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self.sockets[name]

    async def on_control(self, topic: str, event: dict) -> None:
        for consumer in list(self.sockets.pop(event.get("session"), ())):
            await consumer.close(CloseCode.LOGGED_OUT, "You logged out.")


_watchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watcher]" = (
    weakref.WeakKeyDictionary()
)


async def watch(consumer, session_key: str | None) -> None:
    """Close ``consumer`` when its session logs out; ``unwatch`` it on close."""
    name = session_hash(session_key)
    if name is None:
        return
    loop = asyncio.get_running_loop()
    watcher = _watchers.get(loop)
    if watcher is None:
        watcher = _watchers[loop] = _Watcher()
    watcher.add(consumer, name)
    if not watcher.joined:
        watcher.joined = True
        await fanout.get_hub().join(TOPIC, watcher)


def unwatch(consumer, session_key: str | None) -> None:
    """Forget a socket that closed (and its session, if it was the last one)."""
    name = session_hash(session_key)
    watcher = _watchers.get(asyncio.get_running_loop())
    if name is not None and watcher is not None:
        watcher.discard(consumer, name)


def watched() -> dict[str, int]:
    """How many sessions and sockets this process' watcher holds."""
    watcher = _watchers.get(asyncio.get_running_loop())
    if watcher is None:
        return {"sessions": 0, "sockets": 0}
    sockets = sum(len(group) for group in watcher.sockets.values())
    return {"sessions": len(watcher.sockets), "sockets": sockets}


def reset_watchers() -> None:
    _watchers.clear()


@receiver(user_logged_out)
def close_sockets_of_the_session(sender, request, user, **kwargs):
    name = session_hash(getattr(getattr(request, "session", None), "session_key", None))
    if name is not None:
        fanout.publish_control(TOPIC, {"type": "logout", "session": name})
