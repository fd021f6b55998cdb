"""Swap2 over the game's socket: each phase's player, stones and choices."""

import pytest
from asgiref.sync import sync_to_async

from realtime.game import service
from tests.frames import EPHEMERAL, next_frame
from tests.game_helpers import game_row, seat

pytestmark = pytest.mark.django_db(transaction=True)


async def swap2_game(ws, ann, bob):
    game = await sync_to_async(service.create_game)(ann, 5, opening_rule="swap2")
    await sync_to_async(service.join)(game.pk, bob)
    path = f"/ws/game/{game.pk}/"
    first, snap = await seat(ws, path, ann)
    second, _ = await seat(ws, path, bob)
    assert (snap["game"]["phase"], snap["game"]["to_move"]) == ("place3", "b")
    return game, first, second


async def stone(socket, other, x, y) -> dict:
    await socket.send_json_to({"type": "game.move", "x": x, "y": y})
    await next_frame(other, "game.move")
    return await next_frame(socket, "game.move")


async def refused(socket, frame) -> str:
    await socket.send_json_to(frame)
    error = await next_frame(socket, "error", skip=EPHEMERAL)
    assert error["detail"]
    return error["reason"]


async def test_swap2_first_player_places_three_then_second_takes_black(ws, players):
    """Ann places black, white, black; Bob takes black; Ann, now white, plays on."""
    ann, bob, _ = players
    game, first, second = await swap2_game(ws, ann, bob)
    assert await refused(second, {"type": "game.move", "x": 0, "y": 0}) == (
        "not_your_turn"
    )
    colors = []
    for x in range(3):
        moved = await stone(first, second, x, 7)
        colors.append(moved["color"])
        assert moved["by"]["name"] == "ann"
    assert colors == ["b", "w", "b"]
    assert (moved["phase"], moved["to_move"]) == ("choose", "w")

    assert await refused(second, {"type": "game.move", "x": 5, "y": 5}) == (
        "choose_first"
    )
    assert await refused(first, {"type": "game.choose", "choice": "black"}) == (
        "not_your_turn"
    )
    assert await refused(second, {"type": "game.choose", "choice": "red"}) == (
        "bad_choice"
    )
    await second.send_json_to({"type": "game.choose", "choice": "black"})
    for socket in (first, second):
        chosen = await next_frame(socket, "game.opening")
        assert (chosen["black"]["name"], chosen["white"]["name"]) == ("bob", "ann")
        assert (chosen["phase"], chosen["to_move"], chosen["choice"]) == (
            "",
            "w",
            "black",
        )
    moved = await stone(first, second, 3, 3)  # ann, now white, plays the fourth
    assert (moved["color"], moved["by"]["name"], moved["to_move"]) == ("w", "ann", "b")
    row = await game_row(game.pk)
    assert (row.black_id, row.white_id, row.phase) == (bob.pk, ann.pk, "")
    assert await refused(second, {"type": "game.choose", "choice": "white"}) == (
        "no_choice"
    )
    await first.disconnect()
    await second.disconnect()


async def test_swap2_second_player_places_two_and_the_first_chooses(ws, players):
    """Bob places white and black; Ann chooses white and plays the sixth stone."""
    ann, bob, _ = players
    game, first, second = await swap2_game(ws, ann, bob)
    for x in range(3):
        await stone(first, second, x, 7)
    await second.send_json_to({"type": "game.choose", "choice": "place2"})
    for socket in (first, second):
        chosen = await next_frame(socket, "game.opening")
        assert (chosen["phase"], chosen["to_move"]) == ("place2", "w")
    assert await refused(first, {"type": "game.move", "x": 9, "y": 9}) == (
        "not_your_turn"
    )
    assert (await stone(second, first, 4, 4))["color"] == "w"
    moved = await stone(second, first, 5, 5)
    assert (moved["color"], moved["phase"], moved["to_move"]) == ("b", "final", "b")
    assert await refused(first, {"type": "game.choose", "choice": "place2"}) == (
        "bad_choice"
    )
    await first.send_json_to({"type": "game.choose", "choice": "white"})
    await next_frame(first, "game.opening")
    chosen = await next_frame(second, "game.opening")
    assert (chosen["white"]["name"], chosen["to_move"], chosen["phase"]) == (
        "ann",
        "w",
        "",
    )
    moved = await stone(first, second, 6, 6)
    assert (moved["color"], moved["by"]["name"]) == ("w", "ann")
    row = await game_row(game.pk)
    assert (row.black_id, row.white_id) == (bob.pk, ann.pk)
    await first.disconnect()
    await second.disconnect()


async def test_a_sync_over_swap2s_first_stones_resends_the_phase(ws, players):
    """A gap over the opening's stones is filled with a snapshot, phase included."""
    ann, bob, _ = players
    _, first, second = await swap2_game(ws, ann, bob)
    await stone(first, second, 7, 7)
    await second.send_json_to({"type": "game.sync", "after": 1})
    snap = await next_frame(second, "game.snapshot")
    assert (snap["game"]["phase"], snap["game"]["to_move"]) == ("place3", "b")
    assert snap["seq"] == 2
    await first.disconnect()
    await second.disconnect()


async def test_swap2_pages_explain_the_rule_in_both_languages(players):
    """The lobby and a swap2 board explain swap2, in English and in Chinese."""
    from django.test import Client

    ann, *_ = players
    game = await sync_to_async(service.create_game)(ann, 0, opening_rule="swap2")
    for language, text in (("en", "Swap2 balances it"), ("zh-hans", "swap2 使之均衡")):
        page = await sync_to_async(Client(HTTP_ACCEPT_LANGUAGE=language).get)("/game/")
        assert text in page.content.decode()
    board = await sync_to_async(Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get)(
        f"/game/{game.pk}/"
    )
    assert "所以本局以 swap2 开局" in board.content.decode()
    top = await sync_to_async(Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get)(
        "/game/leaderboard/"
    )
    assert "每位玩家从 1500 分起步" in top.content.decode()
