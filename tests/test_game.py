"""Gomoku over WebSocket: players, spectators, the referee's refusals, reconnects."""

import pytest
from asgiref.sync import sync_to_async

from realtime.game import service
from realtime.models import Game, Move
from tests.frames import next_frame
from tests.game_helpers import BLACK_WINS, game_row, new_game, presence_change

pytestmark = pytest.mark.django_db(transaction=True)


async def seat(ws, path, user=None):
    """Open a game socket and return it with its snapshot frame."""
    communicator, connected, _ = await ws(path, user=user)
    assert connected
    return communicator, await next_frame(communicator, "game.snapshot")


async def test_full_game_two_players_and_a_spectator_see_every_move(ws, players):
    """Bob takes the seat, they play to five; all three see each move and the win."""
    ann, bob, _ = players
    game = await new_game(ann)
    path = f"/ws/game/{game.pk}/"
    black, snap = await seat(ws, path, ann)
    assert snap["game"]["status"] == "waiting" and snap["seq"] == 0
    white, _ = await seat(ws, path, bob)
    watcher, _ = await seat(ws, path)  # anonymous visitors may watch
    await white.send_json_to({"type": "game.join"})
    for socket in (black, white, watcher):
        started = await next_frame(socket, "game.started")
        assert started["seq"] == 1 and started["white"]["name"] == "bob"

    for number, (x, y) in enumerate(BLACK_WINS, start=1):
        mover = black if number % 2 else white
        await mover.send_json_to({"type": "game.move", "x": x, "y": y})
        for socket in (black, white, watcher):
            move = await next_frame(socket, "game.move")
            assert (move["x"], move["y"], move["seq"]) == (x, y, number + 1)
            assert move["color"] == ("b" if number % 2 else "w")
    for socket in (black, white, watcher):
        over = await next_frame(socket, "game.over")
        assert over["result"] == "b" and over["reason"] == "five"
        assert over["winner"]["name"] == "ann"
        assert over["line"] == [[x, 0] for x in range(5)]
        assert over["seq"] == len(BLACK_WINS) + 2
    assert await sync_to_async(service.record)(ann) == {
        "wins": 1,
        "losses": 0,
        "draws": 0,
    }
    assert (await sync_to_async(service.record)(bob))["losses"] == 1
    for socket in (black, white, watcher):
        await socket.disconnect()


async def test_illegal_moves_get_a_reason_and_never_change_the_game(ws, players):
    """Not your turn, occupied, off the board, game over: each refused, nothing kept."""
    ann, bob, _ = players
    game = await new_game(ann)
    black, _ = await seat(ws, f"/ws/game/{game.pk}/", ann)
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    refused = await next_frame(black, "error")
    assert (refused["code"], refused["reason"]) == ("conflict", "not_started")
    await sync_to_async(service.join)(game.pk, bob)
    await next_frame(black, "game.started")
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    await next_frame(black, "game.move")
    before = await game_row(game.pk)

    white, _ = await seat(ws, f"/ws/game/{game.pk}/", bob)
    cases = [
        (black, {"x": 8, "y": 8}, "conflict", "not_your_turn"),
        (white, {"x": 7, "y": 7}, "conflict", "occupied"),
        (white, {"x": 15, "y": 0}, "invalid", "out_of_bounds"),
        (white, {"x": 3, "y": -1}, "invalid", "out_of_bounds"),
        (white, {"x": 3, "y": 3, "seq": 1}, "conflict", "stale"),
    ]
    for socket, fields, code, reason in cases:
        await socket.send_json_to({"type": "game.move", **fields})
        refused = await next_frame(socket, "error")
        assert (refused["code"], refused["reason"]) == (code, reason), fields
    await white.send_json_to({"type": "game.move", "x": "3"})
    assert (await next_frame(white, "error"))["code"] == "invalid"
    after = await game_row(game.pk)
    assert (after.board, after.seq) == (before.board, before.seq)
    assert await sync_to_async(Move.objects.filter(game=game).count)() == 1

    await white.send_json_to({"type": "game.resign"})
    assert (await next_frame(black, "game.over"))["reason"] == "resign"
    await black.send_json_to({"type": "game.move", "x": 0, "y": 0})
    assert (await next_frame(black, "error"))["reason"] == "game_over"
    assert (await game_row(game.pk)).board == after.board
    await black.disconnect()
    await white.disconnect()


async def test_a_third_user_and_an_anonymous_visitor_cannot_move(ws, players):
    """Carol gets forbidden/not_a_player; an anonymous visitor login_required."""
    ann, bob, carol = players
    game = await new_game(ann, bob)
    third, snap = await seat(ws, f"/ws/game/{game.pk}/", carol)
    assert snap["game"]["to_move"] == "b"
    await third.send_json_to({"type": "game.move", "x": 7, "y": 7})
    refused = await next_frame(third, "error")
    assert (refused["code"], refused["reason"]) == ("forbidden", "not_a_player")
    await third.send_json_to({"type": "game.join"})
    assert (await next_frame(third, "error"))["reason"] == "not_open"
    anonymous, _ = await seat(ws, f"/ws/game/{game.pk}/")
    await anonymous.send_json_to({"type": "game.move", "x": 7, "y": 7})
    refused = await next_frame(anonymous, "error")
    assert (refused["code"], refused["reason"]) == ("unauthenticated", "login_required")
    await anonymous.send_json_to({"type": "game.chat", "text": "hi"})
    assert (await next_frame(anonymous, "error"))["code"] == "unauthenticated"
    assert (await game_row(game.pk)).seq == 1
    await third.disconnect()
    await anonymous.disconnect()


async def test_a_missing_game_is_refused_with_4004(ws):
    """A socket for a game that does not exist closes with 4004."""
    communicator, connected, _ = await ws("/ws/game/999999/")
    assert connected
    closed = await communicator.receive_output(timeout=5)
    assert closed == {
        "type": "websocket.close",
        "code": 4004,
        "reason": "No such game.",
    }


async def test_reconnect_restores_the_game_and_sync_resumes_after_a_seq(ws, players):
    """A player who drops comes back to the same board, seq and clocks."""
    ann, bob, _ = players
    game = await new_game(ann, bob, clock=5)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    white, _ = await seat(ws, path, bob)
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    await next_frame(white, "game.move")
    await black.disconnect()
    gone = await presence_change(white, "ann", online=False)
    assert gone["color"] == "b"
    await white.send_json_to({"type": "game.move", "x": 8, "y": 8})
    await next_frame(white, "game.move")

    black, snap = await seat(ws, path, ann)
    state = snap["game"]
    assert snap["seq"] == 3 and state["to_move"] == "b"
    assert state["moves"] == [[7, 7, "b", 2], [8, 8, "w", 3]]
    assert state["board"] == (await game_row(game.pk)).board
    assert 0 < state["clock"]["black_ms"] <= 300_000 and state["clock"]["running"]
    back = await next_frame(white, "game.presence")
    assert back["online"] is True

    await black.send_json_to({"type": "game.sync", "after": 2})
    replayed = await next_frame(black, "game.move")
    assert (replayed["seq"], replayed["x"], replayed["y"]) == (3, 8, 8)
    await black.send_json_to({"type": "game.sync", "after": 0})  # spans the start
    assert (await next_frame(black, "game.snapshot"))["seq"] == 3
    await black.disconnect()
    await white.disconnect()


async def test_a_clock_running_out_loses_without_anyone_sending(ws, players):
    """The server's timer ends the game on time: white wins, black's clock at 0."""
    ann, bob, _ = players
    game = await new_game(ann, bob, clock=1)
    # Black has only a moment left: the consumer's timer must settle it.
    await sync_to_async(_shorten_clock)(game.pk, ms=300)
    black, snap = await seat(ws, f"/ws/game/{game.pk}/", ann)
    assert snap["game"]["status"] == "active"
    watcher, _ = await seat(ws, f"/ws/game/{game.pk}/")
    for socket in (black, watcher):
        over = await next_frame(socket, "game.over")
        assert (over["result"], over["reason"]) == ("w", "timeout")
        assert over["clock"]["black_ms"] == 0
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    assert (await next_frame(black, "error"))["reason"] == "game_over"
    assert (await game_row(game.pk)).winner_id == bob.pk
    await black.disconnect()
    await watcher.disconnect()


def _shorten_clock(game_id, ms):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Game.objects.filter(pk=game_id).update(
        black_ms=ms, turn_started_at=now, deadline=now + timedelta(milliseconds=ms)
    )


async def test_a_late_move_after_the_deadline_loses_on_time(players):
    """A move that arrives after the deadline ends the game by timeout instead."""
    ann, bob, _ = players
    game = await new_game(ann, bob, clock=1)
    await sync_to_async(_shorten_clock)(game.pk, ms=-1)
    with pytest.raises(service.GameError) as refused:
        await sync_to_async(service.play)(game.pk, ann, 7, 7)
    assert refused.value.reason == "game_over"
    row = await game_row(game.pk)
    assert (row.reason, row.result) == ("timeout", "w")


async def test_opponent_disconnected_then_claim_after_grace(ws, players, settings):
    """Bob leaves: ann sees it, cannot claim during grace, then claims the win."""
    ann, bob, _ = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    white, _ = await seat(ws, path, bob)
    await black.send_json_to({"type": "game.claim"})
    assert (await next_frame(black, "error"))["reason"] == "opponent_present"
    await white.disconnect()
    gone = await presence_change(black, "bob", online=False)
    assert gone["color"] == "w"
    await black.send_json_to({"type": "game.claim"})
    assert (await next_frame(black, "error"))["reason"] == "grace_period"
    settings.DUPLEX = {**settings.DUPLEX, "GAME_GRACE_SECONDS": 0}
    await black.send_json_to({"type": "game.claim"})
    over = await next_frame(black, "game.over")
    assert (over["result"], over["reason"]) == ("b", "abandon")
    await black.disconnect()


async def test_rematch_offer_and_accept_starts_a_new_game(ws, players):
    """After a win, one offers, the other accepts: a new game, colours swapped."""
    ann, bob, _ = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    white, _ = await seat(ws, path, bob)
    await black.send_json_to({"type": "game.rematch"})
    assert (await next_frame(black, "error"))["reason"] == "not_over"
    await black.send_json_to({"type": "game.resign"})
    for socket in (black, white):
        await next_frame(socket, "game.over")
    await white.send_json_to({"type": "game.rematch"})
    for socket in (black, white):
        offered = await next_frame(socket, "game.rematch_offered")
        assert offered["by"]["name"] == "bob"
    await white.send_json_to({"type": "game.rematch"})
    assert (await next_frame(white, "error"))["reason"] == "already_offered"
    await black.send_json_to({"type": "game.rematch"})
    for socket in (black, white):
        rematch = await next_frame(socket, "game.rematch")
    new = await sync_to_async(Game.objects.get)(pk=rematch["game"])
    assert (new.black_id, new.white_id, new.status) == (bob.pk, ann.pk, "active")
    assert (await game_row(game.pk)).rematch_id == new.pk
    await black.disconnect()
    await white.disconnect()


async def test_chat_reaches_players_and_spectators_as_sent(ws, players):
    """A spectator's and a player's messages reach everyone, with their role."""
    ann, bob, carol = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    watcher, _ = await seat(ws, path, carol)
    await watcher.send_json_to({"type": "game.chat", "text": "<b>好棋</b>"})
    for socket in (black, watcher):
        chat = await next_frame(socket, "game.chat")
        assert (chat["text"], chat["role"]) == ("<b>好棋</b>", "spectator")
    await black.send_json_to({"type": "game.chat", "text": "thanks"})
    for socket in (black, watcher):
        assert (await next_frame(socket, "game.chat"))["role"] == "b"
    await black.send_json_to({"type": "game.chat", "text": "x" * 301})
    assert (await next_frame(black, "error"))["code"] == "too_big"
    await black.disconnect()
    await watcher.disconnect()


async def test_a_late_spectator_reads_the_earlier_chat(ws, players):
    """Lines said before a spectator arrived come with the board, in order."""
    ann, bob, carol = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    for text in ("good luck", "好棋"):
        await black.send_json_to({"type": "game.chat", "text": text})
        await next_frame(black, "game.chat")
    late, _ = await seat(ws, path, carol)
    history = await next_frame(late, "game.chat_history")
    said = [
        (line["user"]["name"], line["role"], line["text"]) for line in history["lines"]
    ]
    assert said == [("ann", "b", "good luck"), ("ann", "b", "好棋")]
    await black.disconnect()
    await late.disconnect()


async def test_a_full_board_is_a_draw(players):
    """The last cell filled without five ends the game as a draw."""
    from tests.test_game_rules import drawn_game

    ann, bob, _ = players
    game = await new_game(ann, bob)

    def play_all():
        for number, (x, y) in enumerate(drawn_game()):
            service.play(game.pk, ann if number % 2 == 0 else bob, x, y)

    await sync_to_async(play_all)()
    row = await game_row(game.pk)
    assert (row.status, row.result, row.reason, row.winner_id) == (
        "finished",
        "draw",
        "full",
        None,
    )
    assert (await sync_to_async(service.record)(ann))["draws"] == 1
