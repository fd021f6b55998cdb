"""Helpers shared by the Gomoku tests."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from realtime.game import service

# Black wins along row 0; white answers on row 1.
BLACK_WINS = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0)]
NOISE = {"game.watchers", "game.presence", "lobby.spectators", "lobby.players"}


async def next_frame(communicator, *types, wait=5):
    """The next frame of one of ``types``, skipping presence and watcher noise."""
    while True:
        frame = await communicator.receive_json_from(timeout=wait)
        if frame["type"] in types:
            return frame
        assert frame["type"] in NOISE, f"unexpected {frame}"


async def new_game(black, white=None, clock=0):
    """A game created by ``black``; started if ``white`` is given."""
    game = await sync_to_async(service.create_game)(black, clock)
    if white is not None:
        await sync_to_async(service.join)(game.pk, white)
    return game


async def game_row(game_id):
    from realtime.models import Game

    return await sync_to_async(Game.objects.get)(pk=game_id)


@pytest.fixture
async def close_db_threads():
    """Close the connections consumers opened in asgiref's worker thread, so the
    test database can be dropped at the end of the session."""
    yield
    await sync_to_async(connections.close_all)()
