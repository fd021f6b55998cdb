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


async def closed_code(communicator) -> int:
    while (output := await communicator.receive_output(3))["type"] != "websocket.close":
        pass
    return output["code"]


@pytest.mark.parametrize("end", ["password", "logout"])
async def test_a_socket_opened_just_after_the_session_ends_is_not_logged_in(
    ws, make_user, session_for, end
):
    """A page's sockets share one read of their session. Once ann's password
    changes, or she logs out, her open socket closes with 4009, and a socket
    opened at once with the same cookie is not hers: the bell refuses it."""
    from django.conf import settings
    from django.contrib.auth import logout
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.test import RequestFactory

    from realtime.core.envelope import CloseCode

    ann = await sync_to_async(make_user)("ann")
    key = await sync_to_async(session_for)(ann)
    cookie = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]
    site, connected, _ = await ws("/ws/site/", headers=cookie)
    bell, connected, _ = await ws("/ws/notifications/", headers=cookie)
    assert connected
    assert await bell.receive_nothing(0.2)  # hers: accepted, not refused

    def end_session():
        if end == "password":
            ann.set_password("a-new-pass-456")
            ann.save()
        else:
            request = RequestFactory().post("/accounts/logout/")
            request.session, request.user = SessionStore(key), ann
            logout(request)

    await sync_to_async(end_session)()
    assert await closed_code(site) == CloseCode.LOGGED_OUT
    again, connected, _ = await ws("/ws/notifications/", headers=cookie)
    assert await closed_code(again) == CloseCode.UNAUTHENTICATED
