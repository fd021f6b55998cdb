"""A handshake and join read on the reader threads, not behind the writes.

Every write of a process (a message's commit and publish, a read mark, a
login) runs on asgiref's one thread-sensitive thread. A join only reads: the
session and its user, the room and the user's ban, the mute, the read mark
and the room's history. While that thread is held (here by a call that
waits, as a post waiting for a room's row lock would), people can still open
the room and get its history (realtime/core/dbthreads.py).
"""

import threading

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from project.asgi import application
from tests.chat_helpers import LOBBY, post
from tests.conftest import ORIGIN
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


class HeldThread:
    """Hold the one thread-sensitive database thread until ``release``."""

    def __init__(self):
        self.started = threading.Event()
        self._release = threading.Event()
        self._future = None

    def __enter__(self):
        def wait() -> None:
            self.started.set()
            self._release.wait(30)

        self._future = SyncToAsync.single_thread_executor.submit(wait)
        assert self.started.wait(5)
        return self

    def __exit__(self, *exc):
        self._release.set()
        self._future.result(10)


async def open_room(key: str) -> WebsocketCommunicator:
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}".encode()
    c = WebsocketCommunicator(
        application, LOBBY, headers=[(b"origin", ORIGIN.encode()), (b"cookie", cookie)]
    )
    connected, _ = await c.connect(timeout=5)
    assert connected
    return c


async def test_people_join_a_room_while_the_database_thread_is_held(
    lobby, ann, bob, session_for
):
    await sync_to_async(post)(lobby, bob, "before the hold")
    keys = [await sync_to_async(session_for)(user) for user in (ann, bob)]
    with HeldThread():
        sockets = [await open_room(key) for key in keys]
        for c, name in zip(sockets, ("ann", "bob"), strict=True):
            await c.send_json_to({"type": "chat.join"})
            joined = await next_frame(c, "chat.joined")
            history = await next_frame(c, "chat.history")
            assert joined["you"]["name"] == name
            assert [m["text"] for m in history["messages"]] == ["before the hold"]
    for c in sockets:
        await c.disconnect()
