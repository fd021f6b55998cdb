"""Redis comes back after an outage: what was stored meanwhile reaches the sockets
that stayed open, by itself, once each, without another write to the stream."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from realtime.chat.models import Message, Room
from realtime.game import service as game
from realtime.notifications.service import notify
from tests.frames import ANY, next_frame, receive_json
from tests.game_helpers import new_game

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BACK = 30  # seconds a socket may wait for the stream once Redis is back
SETTLE = 3  # seconds of listening after it, for a second copy (several heartbeats)


async def open_socket(server, path: str, session_key: str | None = None):
    headers = {}
    if session_key:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    return await connect(
        server.ws_url + path, origin=server.origin, additional_headers=headers
    )


async def frames_until(ws, found, wait: float = BACK) -> list[dict]:
    """Every frame up to and with the first that ``found`` accepts."""
    frames = []
    while not frames or not found(frames[-1]):
        frames.append(await receive_json(ws, wait))
    return frames


async def frames_for(ws, seconds: float) -> list[dict]:
    """Every frame the socket gets in the next ``seconds``."""
    frames = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(await receive_json(ws, seconds))
    except TimeoutError:
        pass
    return frames


async def stored(model, **fields) -> None:
    """Wait until the server has committed the row."""
    for _ in range(100):
        if await sync_to_async(model.objects.filter(**fields).exists)():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {model.__name__} with {fields} was stored")


async def logged(server, text: str) -> None:
    for _ in range(100):
        if text in server.log():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server never logged {text!r}:\n{server.log()}")


def message_texts(frames: list[dict]) -> list[str]:
    return [f["text"] for f in frames if f["type"] == "chat.message"]


async def test_a_quiet_room_gets_the_message_posted_while_redis_was_down(
    daphne, private_redis, make_user, session_for
):
    """Redis stops; ann posts in a room nobody else writes to (the database takes
    it; the publish fails); Redis comes back: ann's and bob's open sockets each
    get that message once, with no later write to the room."""
    ann, bob = [await sync_to_async(make_user)(name) for name in ("ann", "bob")]
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    sockets = []
    for user in (ann, bob):
        key = await sync_to_async(session_for)(user)
        ws = await open_socket(server, "/ws/chat/lobby/", key)
        await ws.send(json.dumps({"type": "chat.join", "after": 0}))
        await next_frame(ws, "chat.history", skip=ANY)
        sockets.append(ws)
    writer, reader = sockets

    redis.stop()
    text = "posted while Redis was down"
    await writer.send(json.dumps({"type": "chat.send", "text": text}))
    await stored(Message, text=text)
    await logged(server, "Publishing room")  # its publish failed: Redis is down
    redis.start()

    for ws in (reader, writer):
        got = await frames_until(ws, lambda f: f.get("text") == text)
        got += await frames_for(ws, SETTLE)
        assert message_texts(got) == [text], got
        assert "chat.reset" not in [f["type"] for f in got], got
    assert server.proc.poll() is None
    for ws in sockets:
        await ws.close()


async def test_a_notification_and_a_move_stored_while_redis_was_down_arrive(
    daphne, private_redis, make_user, session_for
):
    """Redis stops; a notification for bob and a move in a game are stored (their
    publishes go nowhere); Redis comes back: bob's open bell and a spectator's
    open board each get theirs once, with nothing else written."""
    bob, black, white = [
        await sync_to_async(make_user)(name) for name in ("bob", "black", "white")
    ]
    match = await new_game(black, white)
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    key = await sync_to_async(session_for)(bob)
    bell = await open_socket(server, "/ws/notifications/", key)
    await bell.send(json.dumps({"type": "notifications.hello", "after": 0}))
    await next_frame(bell, "notifications.state", skip=ANY)
    board = await open_socket(server, f"/ws/game/{match.pk}/")
    await next_frame(board, "game.snapshot", skip=ANY)

    redis.stop()
    await sync_to_async(notify)(bob.pk, "mention", "while Redis was down")
    await sync_to_async(game.play)(match.pk, black, 7, 7)
    await logged(server, "Channel layer unreachable")  # the server saw it down
    redis.start()

    def is_new(frame):
        return frame["type"] == "notifications.new"

    got = await frames_until(bell, is_new)
    got += await frames_for(bell, SETTLE)
    titles = [f["notification"]["title"] for f in got if is_new(f)]
    assert titles == ["while Redis was down"], got

    def is_move(frame):
        return frame["type"] == "game.move"

    got = await frames_until(board, is_move)
    got += await frames_for(board, SETTLE)
    moves = [(f["x"], f["y"]) for f in got if is_move(f)]
    assert moves == [(7, 7)], got
    assert "game.snapshot" not in [f["type"] for f in got], got
    assert server.proc.poll() is None
    for ws in (bell, board):
        await ws.close()
