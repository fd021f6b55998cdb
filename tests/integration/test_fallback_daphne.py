"""The fallback transport on two real daphne processes and Redis: a stream
held by one process, its POSTs answered by the other."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from realtime.chat.models import Message, Room
from tests.fallback_client import HttpStream

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def site(daphne, make_user, session_for):
    """Two processes, the room, and the session cookies of ann and bob."""
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    servers = [await asyncio.to_thread(daphne) for _ in range(2)]
    cookies = []
    for name in ("ann", "bob"):
        key = await sync_to_async(session_for)(await sync_to_async(make_user)(name))
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    return (*servers, *cookies)


async def ws_frame(ws, kind: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == kind:
            return frame


async def test_posts_to_another_process_reach_the_stream(
    daphne, make_user, session_for
):
    """ann's stream lives on process A and her POSTs go to process B (no
    sticky sessions); bob, on a WebSocket to B, chats with her both ways."""
    a, b, ann_cookie, bob_cookie = await site(daphne, make_user, session_for)

    stream = HttpStream(a, "/ws/chat/lobby/", cookie=ann_cookie)
    assert await stream.open() == 200
    assert await stream.post(b, [{"type": "chat.join", "after": 0}]) == 204
    assert (await stream.next_frame("chat.joined", wait=10))["you"]["name"] == "ann"

    async with connect(
        b.ws_url + "/ws/chat/lobby/",
        origin=b.origin,
        additional_headers={"Cookie": bob_cookie},
    ) as ws:
        await ws.send(json.dumps({"type": "chat.join", "after": 0}))
        await ws_frame(ws, "chat.joined")
        for text in ("one from ann", "two from ann"):
            assert await stream.post(b, [{"type": "chat.send", "text": text}]) == 204
        got = [(await ws_frame(ws, "chat.message"))["text"] for _ in range(2)]
        assert got == ["one from ann", "two from ann"]
        await ws.send(json.dumps({"type": "chat.send", "text": "bob here"}))
        texts = [
            (await stream.next_frame("chat.message", wait=10))["text"] for _ in range(3)
        ]
        assert texts == ["one from ann", "two from ann", "bob here"]
    stored = await sync_to_async(list)(Message.objects.values_list("text", flat=True))
    assert sorted(stored) == sorted(["one from ann", "two from ann", "bob here"])
    await stream.close()


async def test_another_session_cannot_post_to_a_stream(daphne, make_user, session_for):
    """A POST to a process that does not hold the stream is still checked: bob's
    session cannot use ann's stream id there."""
    a, b, ann_cookie, bob_cookie = await site(daphne, make_user, session_for)
    stream = HttpStream(a, "/ws/chat/lobby/", cookie=ann_cookie)
    assert await stream.open() == 200
    stream.cookie = bob_cookie
    assert await stream.post(b, [{"type": "chat.send", "text": "as ann?"}]) == 403
    await stream.close()


async def test_sigterm_closes_streams_with_1012(daphne):
    """A restarting process tells its streams, as its sockets: close 1012."""
    server = await asyncio.to_thread(daphne)
    stream = HttpStream(server, "/ws/echo/")
    assert await stream.open() == 200
    stopping = asyncio.ensure_future(asyncio.to_thread(server.stop))
    close = await stream.closed(wait=10)
    assert close == {"code": 1012, "reason": "server restarting"}
    await stopping
    assert "closing 0 sockets and 1 streams with 1012" in server.log()
    await stream.close()


async def test_a_stream_that_is_not_read_is_closed(daphne):
    """A client that keeps sending and never reads its stream does not grow
    the server's buffer: past DUPLEX_OUTBOX_MAX_BYTES waiting, the stream is
    closed with 1008 and the client, once it reads, learns why."""
    server = await asyncio.to_thread(daphne, DUPLEX_OUTBOX_MAX_BYTES="65536")
    stream = HttpStream(server, "/ws/echo/")
    assert await stream.open() == 200
    frame = "x" * 200_000
    sent = 0
    while sent < 200 and "does not read" not in server.log():
        assert await stream.post(server, [frame]) == 204
        sent += 1
    assert sent < 200, "the server kept buffering"
    echoed = 0
    while True:
        name, data = await stream.event(wait=10)
        if name == "close":
            break
        echoed += 1
    assert json.loads(data) == {"code": 1008, "reason": "Too many unread frames."}
    assert echoed < sent
    await stream.close()


async def test_redis_down_answers_503_then_streams_again(daphne, private_redis):
    """With Redis down a stream and a POST answer 503 with Retry-After (the
    fallback's 1013); once Redis is back, streams work again."""
    redis = await asyncio.to_thread(private_redis)
    server = await asyncio.to_thread(daphne, redis=False, REDIS_URL=redis.url)
    stream = HttpStream(server, "/ws/echo/")
    assert await stream.open() == 200
    redis.stop()
    assert await stream.post(server, ["lost"]) == 503
    refused = HttpStream(server, "/ws/echo/")
    assert await refused.open(wait=20) == 503
    await asyncio.to_thread(redis.start)
    again = HttpStream(server, "/ws/echo/")
    for _ in range(50):  # the layer reconnects within a second or two
        if await again.open(wait=20) == 200:
            break
        again = HttpStream(server, "/ws/echo/")
        await asyncio.sleep(0.2)
    assert again.status == 200
    assert await again.post(server, ["back"]) == 204
    assert await again.frame(wait=10) == "back"
    for s in (stream, refused, again):
        await s.close()
