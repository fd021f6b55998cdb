"""Hostile input beside the JSON frames: the plain-text chat subprotocol,
unknown paths, daphne's frame limits, NUL bytes in HTTP requests."""

import asyncio
import json
import logging

import pytest
from asgiref.sync import sync_to_async

from realtime.chat.models import Message
from realtime.core.envelope import CloseCode
from tests.hostile import ENDPOINTS, MAX_FRAME, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(make_user):
    return make_world(make_user)


async def test_plain_text_chat_refuses_binary_oversized_and_nul(ws, world):
    """The ``chat`` subprotocol answers each bad frame with an ``! code`` line."""
    c, connected, subprotocol = await ws(
        "/ws/chat/lobby/", user=world.ann, subprotocols=["chat"]
    )
    assert (connected, subprotocol) == (True, "chat")
    sends = [
        ({"bytes": b"hello"}, "! binary_unsupported"),
        ({"text": "x" * (MAX_FRAME + 1)}, "! too_big"),
        ({"text": "a\x00b"}, "! invalid"),
        ({"text": "x" * 4001}, "! too_big"),
    ]
    for message, prefix in sends:
        await c.send_input({"type": "websocket.receive", **message})
        line = await c.receive_from()
        assert line.startswith(prefix), line
    stored = Message.objects.filter(room=world.room).count
    assert await sync_to_async(stored)() == 0
    await c.disconnect()


async def test_unknown_paths_close_with_4004(ws, caplog):
    """A path no endpoint serves is refused with 4004, not a router exception."""
    for path in ["/ws/nope/", "/ws/game/abc/", "/ws/game/" + "9" * 5000 + "/", "/"]:
        c, connected, _ = await ws(path)
        assert connected
        closed = await c.receive_output()
        assert (closed["type"], closed["code"]) == ("websocket.close", 4004), path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.integration
async def test_real_daphne_closes_oversized_1009_bad_utf8_1007_and_logs_no_error(
    daphne, world, session_for
):
    """Over daphne's 1 MiB: 1009; invalid UTF-8 text: 1007; an unknown path: 4004.
    A chat user on the same server gets every message meanwhile; no traceback."""
    from django.conf import settings
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    server = daphne(redis=False)

    def socket(path, user=None):
        headers = {"Origin": server.origin}
        if user is not None:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_for(user)}"
        return connect(server.ws_url + path, additional_headers=headers, max_size=None)

    async def recv(c):
        return await asyncio.wait_for(c.recv(), 10)

    posters = [await sync_to_async(socket)("/ws/chat/lobby/", u)
               for u in (world.ann, world.carol)]  # fmt: skip
    healthy_socket = await sync_to_async(socket)("/ws/chat/lobby/", world.bob)
    async with healthy_socket as healthy, posters[0] as ann, posters[1] as carol:
        await healthy.send(json.dumps({"type": "chat.join", "after": 0}))
        for number, name in enumerate(ENDPOINTS):
            path = ENDPOINTS[name][0].format(game=world.game.pk)
            for payload, code in [("x" * (2**20 + 1), 1009), (b"\xff\xfe", 1007)]:
                async with await sync_to_async(socket)(path, world.ann) as bad:
                    await bad.send(payload, text=True)
                    with pytest.raises(ConnectionClosed):
                        while True:
                            await recv(bad)
                    assert bad.close_code == code, (name, code)
            poster = (ann, carol)[number % 2]  # two users: under the flood limit
            await poster.send(json.dumps({"type": "chat.send", "text": f"n{number}"}))
            while (reply := json.loads(await recv(healthy))).get(
                "text"
            ) != f"n{number}":
                assert reply["type"] != "error", reply
        async with await sync_to_async(socket)("/ws/nope/") as bad:
            with pytest.raises(ConnectionClosed):
                await recv(bad)
            assert bad.close_code == CloseCode.NOT_FOUND
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log


NUL_REQUESTS = [
    ("get", "/users/a%00b/", None),
    ("get", "/game/players/a%00b/", None),
    ("get", "/quotes/api/history/A%00/", None),
    ("get", "/quotes/api/latest/?symbols=A%00,AAPL", None),
    ("get", "/notifications/?page=%00", None),
    ("post", "/notifications/follow/user/a%00/", {}),
    ("post", "/notifications/follow/user/", {"username": "a\x00"}),
    ("post", "/accounts/login/", {"username": "a\x00", "password": "x"}),
    ("post", "/accounts/signup/", {"username": "a\x00", "password1": "x"}),
    ("post", "/chat/lobby/upload/", {"text": "a\x00"}),
    ("json", "/quotes/api/watchlist/", '{"symbols": ["A\\u0000"]}'),
]


def test_nul_in_http_input_is_a_400_not_a_500(client, world):
    """PostgreSQL cannot store NUL: such a request is refused, not a server error."""
    client.raise_request_exception = False
    client.force_login(world.ann)
    for method, url, data in NUL_REQUESTS:
        if method == "json":
            response = client.post(url, data, content_type="application/json")
        else:
            response = getattr(client, method)(url, data)
        assert response.status_code == 400, url
