"""The per-process session watcher: it holds only sockets that are open."""

import pytest
from asgiref.sync import sync_to_async

from realtime.core import sessions

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_watcher_forgets_sessions_whose_sockets_closed(ws, make_user):
    """Sockets of eight sessions are watched while open; once they close, the
    watcher holds none of them (it kept every session ever seen)."""
    users = [await sync_to_async(make_user)(f"user{n}") for n in range(7)]
    opened = []
    for user in [*users, users[0]]:
        communicator, connected, _ = await ws("/ws/site/", user=user)
        assert connected
        opened.append(communicator)
    assert sessions.watched() == {"sessions": 8, "users": 7, "sockets": 8}
    await opened.pop().disconnect()
    assert sessions.watched() == {"sessions": 7, "users": 7, "sockets": 7}
    for communicator in opened:
        await communicator.disconnect()
    assert sessions.watched() == {"sessions": 0, "users": 0, "sockets": 0}
