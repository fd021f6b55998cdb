"""Gomoku on two real daphne processes sharing Redis and PostgreSQL."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from realtime.game import service
from realtime.models import Game, Move
from tests.frames import ANY, next_frame

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROUNDS = 5
ANY_FRAME = {"skip": ANY, "wait": 10}  # pass over every other frame


async def open_game(server, game_id, session_key):
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    socket = await connect(
        f"{server.ws_url}/ws/game/{game_id}/",
        origin=server.origin,
        additional_headers={"Cookie": cookie},
    )
    await next_frame(socket, "game.snapshot", **ANY_FRAME)
    return socket


async def test_same_turn_moves_from_two_processes_exactly_one_is_played(
    daphne, make_user, session_for
):
    """Black's two tabs, on two daphne processes, move at once: one move per turn."""
    a, b = daphne(), daphne()
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    game = await sync_to_async(service.create_game)(ann)
    await sync_to_async(service.join)(game.pk, bob)
    ann_key = await sync_to_async(session_for)(ann)
    bob_key = await sync_to_async(session_for)(bob)
    tab_a = await open_game(a, game.pk, ann_key)
    tab_b = await open_game(b, game.pk, ann_key)
    white = await open_game(b, game.pk, bob_key)
    refusals = []

    seq = 1
    for turn in range(ROUNDS):
        x = 2 * turn
        await asyncio.gather(
            tab_a.send(json.dumps({"type": "game.move", "x": x, "y": 3, "seq": seq})),
            tab_b.send(json.dumps({"type": "game.move", "x": x, "y": 11, "seq": seq})),
        )
        seq += 1
        played = []
        for tab in (tab_a, tab_b):
            # A pong comes after the socket's move was refereed: its refusal, if
            # any, is read by then. Its copy of the accepted move may come later.
            await tab.send(json.dumps({"type": "ping"}))
            seen = []
            await next_frame(tab, "pong", **ANY_FRAME, seen=seen)
            moves = [f for f in seen if f["type"] == "game.move"]
            if not moves:
                moves = [await next_frame(tab, "game.move", **ANY_FRAME, seen=seen)]
            played.append((moves[0]["seq"], moves[0]["x"], moves[0]["y"]))
            refusals += [f["reason"] for f in seen if f["type"] == "error"]
        assert played[0] == played[1] and played[0][0] == seq  # one move, seen by both
        await white.send(json.dumps({"type": "game.move", "x": x + 1, "y": 7}))
        seq += 1
        for socket in (tab_a, tab_b, white):
            move = {"seq": 0}
            while move["seq"] < seq:
                move = await next_frame(socket, "game.move", **ANY_FRAME)

    assert len(refusals) == ROUNDS
    assert set(refusals) <= {"stale", "not_your_turn"}
    assert await sync_to_async(Move.objects.filter(game=game).count)() == 2 * ROUNDS
    assert (await sync_to_async(Game.objects.get)(pk=game.pk)).seq == 1 + 2 * ROUNDS
    for socket in (tab_a, tab_b, white):
        await socket.close()


async def open_lobby(server, session_key):
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    socket = await connect(
        f"{server.ws_url}/ws/game/lobby/",
        origin=server.origin,
        additional_headers={"Cookie": cookie},
    )
    await next_frame(socket, "lobby.snapshot", **ANY_FRAME)
    return socket


async def test_seeks_on_two_processes_are_paired_and_both_told(
    daphne, make_user, session_for
):
    """Ann seeks on one process, Bob on the other: one game, both sockets paired."""
    a, b = daphne(), daphne()
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    first = await open_lobby(a, await sync_to_async(session_for)(ann))
    second = await open_lobby(b, await sync_to_async(session_for)(bob))
    seek = {"type": "lobby.seek", "clock": 3, "increment": 2}
    await first.send(json.dumps(seek))
    await next_frame(first, "lobby.seeking", **ANY_FRAME)
    await second.send(json.dumps(seek))
    paired = await next_frame(second, "lobby.paired", **ANY_FRAME)
    told = await next_frame(first, "lobby.paired", **ANY_FRAME)
    assert told["id"] == paired["id"]
    game = await sync_to_async(Game.objects.get)(pk=paired["id"])
    assert {game.black_id, game.white_id} == {ann.pk, bob.pk}
    assert game.status == "active" and game.increment_ms == 2000
    for socket in (first, second):
        await socket.close()
