"""Who may open which socket: the same-origin rule, and the public echo."""

import json
import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from project.asgi import application

PUBLIC_PATHS = ["/ws/echo/", "/echo", "/ws/echo/handshake/"]
HOSTILE = [
    (b"http://evil.example", b"localhost"),
    (b"null", b"localhost"),
    (b"http://localhost.evil.example", b"localhost"),
    (b"http://evil-localhost", b"localhost"),
    (b"http://127.0.0.2", b"127.0.0.2"),  # not in ALLOWED_HOSTS
    (b"http://localhost:8001", b"localhost:8000"),  # another port
    (b"https://localhost", b"localhost"),  # another scheme than the connection's
    (b"ws://localhost", b"localhost"),  # not a web page's origin
    (b"http://localhost/path", b"localhost"),  # not an origin at all
]


async def handshake(path, headers):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.mark.parametrize(("origin", "host"), HOSTILE)
async def test_hostile_origin_is_refused_on_site_sockets(origin, host):
    """A handshake from any other origin is refused (HTTP 403, never accepted)."""
    communicator, connected = await handshake(
        "/ws/site/", [(b"origin", origin), (b"host", host)]
    )
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (b"http://localhost:8000", b"localhost:8000"),
        (b"http://127.0.0.1", b"127.0.0.1"),
    ],
)
async def test_same_origin_is_accepted(origin, host):
    """The site's own pages, on their own host and port, may connect."""
    communicator, connected = await handshake(
        "/ws/site/", [(b"origin", origin), (b"host", host)]
    )
    assert connected
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/site/", "/ws/chat/lobby/", "/ws/scores/"])
async def test_missing_origin_is_refused_on_site_sockets(path):
    """A handshake with no Origin header at all is refused on every site socket."""
    _, connected = await handshake(path, [(b"host", b"localhost")])
    assert not connected


@pytest.mark.parametrize("path", PUBLIC_PATHS)
@pytest.mark.parametrize(("origin", "host"), HOSTILE)
async def test_public_echo_accepts_any_origin(path, origin, host):
    """The echo and the mirror act on behalf of no one: any page may open them."""
    communicator, connected = await handshake(
        path, [(b"origin", origin), (b"host", host)]
    )
    assert connected
    await communicator.disconnect()


@pytest.mark.parametrize("path", PUBLIC_PATHS)
async def test_public_echo_accepts_clients_without_origin(path):
    """Conformance tools and scripts send no Origin; the echo answers them."""
    communicator, connected = await handshake(path, [(b"host", b"localhost")])
    assert connected
    if path != "/ws/echo/handshake/":
        await communicator.send_to(text_data="数据")
        assert await communicator.receive_from() == "数据"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_public_echo_ignores_the_session(caplog, make_user, session_for):
    """A logged-in visitor's cookie does not make the echo socket theirs."""
    caplog.set_level(logging.INFO, logger="realtime.core.sockets")
    ann = await database(make_user, "ann")
    key = await database(session_for, ann)
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}".encode()
    communicator, connected = await handshake(
        "/ws/echo/", [(b"origin", b"http://localhost"), (b"cookie", cookie)]
    )
    assert connected
    await communicator.disconnect()
    opened = [r for r in caplog.records if getattr(r, "event", None) == "connect"]
    assert [(r.path, r.user) for r in opened] == [("/ws/echo/", None)]


async def test_handshake_mirror_never_shows_cookies_or_tokens():
    """Another site's page cannot read a visitor's cookie through the mirror."""
    communicator, connected = await handshake(
        "/ws/echo/handshake/",
        [
            (b"origin", b"http://evil.example"),
            (b"cookie", b"sessionid=secret-session-key"),
            (b"authorization", b"Bearer dpx_secret-token"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    )
    assert connected
    raw = await communicator.receive_from()
    assert "secret" not in raw
    assert json.loads(raw)["headers"] == {
        "origin": "http://evil.example",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    await communicator.disconnect()


async def database(function, *args):
    from asgiref.sync import sync_to_async

    return await sync_to_async(function)(*args)
