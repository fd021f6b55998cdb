"""Draw offers, the clock increment and Elo ratings, over the game's socket."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from realtime.game import ratings, service
from realtime.models import Rating
from tests.frames import ANY, EPHEMERAL, next_frame
from tests.game_helpers import BLACK_WINS, game_row, new_game, seat

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(socket, frame: dict, skip=EPHEMERAL) -> tuple[str, str]:
    await socket.send_json_to(frame)
    error = await next_frame(socket, "error", skip=skip)
    assert error["detail"]  # a sentence a player can read
    return error["code"], error["reason"]


async def move(socket, x, y, *others):
    await socket.send_json_to({"type": "game.move", "x": x, "y": y})
    for each in (socket, *others):
        await next_frame(each, "game.move")


async def test_a_draw_is_offered_declined_withdrawn_by_a_move_and_accepted(ws, players):
    """One offer pends at a time; a move withdraws it; accepting draws the game."""
    ann, bob, carol = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    white, _ = await seat(ws, path, bob)
    watcher, _ = await seat(ws, path, carol)

    await black.send_json_to({"type": "game.draw_offer"})
    for socket in (black, white, watcher):
        offered = await next_frame(socket, "game.draw_offered")
        assert offered["by"]["name"] == "ann" and offered["seq"] == 2
    offer = {"type": "game.draw_offer"}
    assert await refused(black, offer) == ("conflict", "draw_pending")
    assert await refused(white, offer) == ("conflict", "draw_offered")
    assert await refused(watcher, offer) == ("forbidden", "not_a_player")
    assert await refused(black, {"type": "game.draw_accept"}) == (
        "conflict",
        "no_draw_offer",
    )

    await white.send_json_to({"type": "game.draw_decline"})
    for socket in (black, white):
        assert (await next_frame(socket, "game.draw_declined"))["by"]["name"] == "bob"
    assert await refused(black, offer) == ("rate_limited", "draw_too_soon")

    await move(black, 7, 7, white)
    await black.send_json_to(offer)
    for socket in (black, white):
        await next_frame(socket, "game.draw_offered")
    await move(white, 8, 8, black)  # bob plays on: the offer is gone
    _, snap = await seat(ws, path, carol)
    assert snap["game"]["draw_offer"] is None
    assert snap["game"]["draw_offers_left"] == {"b": 1, "w": 3}
    assert await refused(white, {"type": "game.draw_accept"}) == (
        "conflict",
        "no_draw_offer",
    )

    await black.send_json_to(offer)  # the third and last of ann's offers
    await next_frame(white, "game.draw_offered")
    await white.send_json_to({"type": "game.draw_accept"})
    for socket in (black, white, watcher):
        over = await next_frame(socket, "game.over", skip=ANY)
        assert (over["result"], over["reason"], over["winner"]) == (
            "draw",
            "agreement",
            None,
        )
        assert over["ratings"] == {"b": [1500, 1500], "w": [1500, 1500]}
    assert (await game_row(game.pk)).result == "draw"
    for socket in (black, white, watcher):
        await socket.disconnect()


async def test_draw_offers_are_capped_per_player_and_game(ws, players, settings):
    """Past DUPLEX_GAME_DRAW_OFFERS, an offer is refused with draw_limit."""
    settings.DUPLEX = {**settings.DUPLEX, "GAME_DRAW_OFFERS": 1}
    ann, bob, _ = players
    game = await new_game(ann, bob)
    black, _ = await seat(ws, f"/ws/game/{game.pk}/", ann)
    white, _ = await seat(ws, f"/ws/game/{game.pk}/", bob)
    await black.send_json_to({"type": "game.draw_offer"})
    for socket in (black, white):
        await next_frame(socket, "game.draw_offered")
    await move(black, 0, 0, white)
    assert await refused(black, {"type": "game.draw_offer"}) == (
        "rate_limited",
        "draw_limit",
    )
    await black.disconnect()
    await white.disconnect()


async def test_the_increment_is_added_after_each_move_and_shown_in_the_lobby(
    ws, players
):
    """A 1+10 game: after black's move black has more than the minute it began with."""
    ann, bob, _ = players
    lobby, _, _ = await ws("/ws/game/lobby/", user=ann)
    await next_frame(lobby, "lobby.snapshot")
    await lobby.send_json_to({"type": "lobby.create", "clock": 1, "increment": 10})
    created = await next_frame(lobby, "lobby.created", skip={"lobby.game"})
    game = await game_row(created["id"])
    assert (game.clock_ms, game.increment_ms) == (60_000, 10_000)
    await sync_to_async(service.join)(game.pk, bob)
    black, snap = await seat(ws, f"/ws/game/{game.pk}/", ann)
    assert snap["game"]["increment"] == 10
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    moved = await next_frame(black, "game.move")
    assert 60_000 < moved["clock"]["black_ms"] <= 70_000
    assert moved["clock"]["running"] == "w"
    listed = await sync_to_async(service.lobby_games)()
    assert [(g["clock"], g["increment"]) for g in listed] == [(1, 10)]

    await lobby.send_json_to({"type": "lobby.create", "clock": 1, "increment": 61})
    assert (await next_frame(lobby, "error", skip=ANY))["code"] == "invalid"
    await lobby.disconnect()
    await black.disconnect()


async def test_a_rated_win_moves_both_ratings_once_and_tops_the_leaderboard(
    ws, players
):
    """Ann beats Bob: 1500 -> 1520 and 1480 in the result's frame, once only."""
    ann, bob, _ = players
    game = await new_game(ann, bob)
    black, _ = await seat(ws, f"/ws/game/{game.pk}/", ann)
    white, _ = await seat(ws, f"/ws/game/{game.pk}/", bob)
    for number, (x, y) in enumerate(BLACK_WINS):
        mover, other = (black, white) if number % 2 == 0 else (white, black)
        await move(mover, x, y, other)
    over = await next_frame(black, "game.over", skip=ANY)
    assert over["ratings"] == {"b": [1500, 1520], "w": [1500, 1480]}

    again = await game_row(game.pk)
    await sync_to_async(ratings.apply)(again)  # a second call changes nothing
    assert await refused(white, {"type": "game.resign"}, skip=ANY) == (
        "conflict",
        "game_over",
    )
    rows = await sync_to_async(list)(
        Rating.objects.values_list(
            "user__username", "rating", "games", "wins", "losses"
        )
    )
    assert sorted(rows) == [("ann", 1520, 1, 1, 0), ("bob", 1480, 1, 0, 1)]

    page = await sync_to_async(Client().get)("/game/leaderboard/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("ann") < text.index("bob") and "1520" in text
    await black.disconnect()
    await white.disconnect()


async def test_an_unrated_game_leaves_ratings_alone(ws, players):
    """A game created unrated ends without a rating change."""
    ann, bob, _ = players
    game = await sync_to_async(service.create_game)(ann, 0, rated=False)
    await sync_to_async(service.join)(game.pk, bob)
    await sync_to_async(service.resign)(game.pk, bob)
    assert (await game_row(game.pk)).ratings == {}
    assert not await sync_to_async(Rating.objects.exists)()


def test_elo_expects_less_of_the_weaker_player_and_pays_more_for_an_upset():
    """The formula: 400 points apart, the weaker is expected 0.09; an upset pays."""
    assert round(ratings.expected(1500, 1900), 2) == 0.09
    assert ratings.change(1500, 1900, 1.0, games=0) == 36  # K=40 while new
    assert ratings.change(1500, 1900, 1.0, games=50) == 18  # K=20 after
    assert ratings.change(1900, 1500, 1.0, games=50) == 2
