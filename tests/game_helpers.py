"""Helpers shared by the Gomoku tests."""

from asgiref.sync import sync_to_async

from realtime.game import service

# Black wins along row 0; white answers on row 1.
BLACK_WINS = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0)]


async def new_game(black, white=None, clock=0):
    """A game created by ``black``; started if ``white`` is given."""
    game = await sync_to_async(service.create_game)(black, clock)
    if white is not None:
        await sync_to_async(service.join)(game.pk, white)
    return game


async def game_row(game_id):
    from realtime.models import Game

    return await sync_to_async(Game.objects.get)(pk=game_id)


async def seat(ws, path, user=None):
    """Open a game socket and return it with its snapshot frame."""
    from tests.frames import next_frame

    communicator, connected, _ = await ws(path, user=user)
    assert connected
    return communicator, await next_frame(communicator, "game.snapshot")


async def presence_change(communicator, name: str, online: bool) -> dict:
    """The next ``game.presence`` saying ``name`` came or went, past the
    presence frames of other arrivals, which may still be on their way."""
    from tests.frames import next_frame

    while True:
        frame = await next_frame(communicator, "game.presence")
        if frame["user"]["name"] == name and frame["online"] is online:
            return frame
