"""The Gomoku lobby, pages, admin abort and simultaneous moves."""

import threading

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from realtime.game import service
from realtime.models import Game, Move
from tests.frames import next_frame
from tests.game_helpers import BLACK_WINS, game_row, new_game

pytestmark = pytest.mark.django_db(transaction=True)


async def test_lobby_lists_games_live_and_creates_one(ws, players):
    """Open games and games in progress appear, fill and leave the lobby live."""
    ann, bob, _ = players
    waiting = await new_game(ann, clock=5)
    lobby, connected, _ = await ws("/ws/game/lobby/")
    assert connected
    snap = await next_frame(lobby, "lobby.snapshot")
    assert [(g["id"], g["status"], g["clock"]) for g in snap["games"]] == [
        (waiting.pk, "waiting", 5)
    ]

    creator, _, _ = await ws("/ws/game/lobby/", user=bob)
    await next_frame(creator, "lobby.snapshot")
    await creator.send_json_to({"type": "lobby.create", "clock": 0})
    frames = [await next_frame(creator, "lobby.created", "lobby.game") for _ in "12"]
    created = next(f for f in frames if f["type"] == "lobby.created")
    update = await next_frame(lobby, "lobby.game")
    assert update["game"]["id"] == created["id"]
    assert update["game"]["black"]["name"] == "bob"

    await sync_to_async(service.join)(waiting.pk, bob)
    update = await next_frame(lobby, "lobby.game")
    assert (update["game"]["id"], update["game"]["status"]) == (waiting.pk, "active")
    watcher, _, _ = await ws(f"/ws/game/{waiting.pk}/")
    count = await next_frame(lobby, "lobby.spectators")
    assert (count["id"], count["count"]) == (waiting.pk, 1)
    await watcher.disconnect()
    assert (await next_frame(lobby, "lobby.spectators"))["count"] == 0

    await sync_to_async(service.resign)(waiting.pk, ann)
    update = await next_frame(lobby, "lobby.game")
    assert update["game"]["status"] == "finished"
    for socket in (lobby, creator):
        await socket.disconnect()


async def test_lobby_refuses_anonymous_creation_and_lists_players_online(ws, players):
    """A visitor cannot create a game; logged-in visitors are listed online."""
    ann, *_ = players
    anonymous, _, _ = await ws("/ws/game/lobby/")
    await next_frame(anonymous, "lobby.snapshot")
    await anonymous.send_json_to({"type": "lobby.create"})
    refused = await next_frame(anonymous, "error")
    assert (refused["code"], refused["reason"]) == ("unauthenticated", "login_required")
    await anonymous.send_json_to({"type": "lobby.create", "clock": 999})
    assert (await next_frame(anonymous, "error"))["code"] == "invalid"
    assert await sync_to_async(Game.objects.count)() == 0

    member, _, _ = await ws("/ws/game/lobby/", user=ann)
    online = await next_frame(anonymous, "lobby.players")
    assert [p["name"] for p in online["players"]] == ["ann"]
    assert [p["name"] for p in (await next_frame(member, "lobby.snapshot"))["players"]]
    await member.disconnect()
    assert (await next_frame(anonymous, "lobby.players"))["players"] == []
    await anonymous.disconnect()


def open_limit() -> int:
    return settings.DUPLEX.get("GAME_OPEN_PER_USER", 3)


async def create_answer(lobby) -> dict:
    """Send lobby.create; its answer (lobby.created or an error), past lobby.game."""
    await lobby.send_json_to({"type": "lobby.create"})
    while True:
        frame = await next_frame(lobby, "lobby.created", "error", "lobby.game")
        if frame["type"] != "lobby.game":
            return frame


async def test_one_account_cannot_fill_the_lobby_with_open_games(ws, players):
    """Past the limit of open games, lobby.create is refused; bob's game still
    shows in the lobby, and ann may create again once one of hers has started."""
    ann, bob, _ = players
    creator, _, _ = await ws("/ws/game/lobby/", user=ann)
    await next_frame(creator, "lobby.snapshot")
    answers = []
    for _ in range(open_limit() + 2):
        answers.append(await create_answer(creator))
    created = [a["id"] for a in answers if a["type"] == "lobby.created"]
    refused = [a for a in answers if a["type"] == "error"]
    assert len(created) == open_limit() and len(refused) == 2
    assert {(a["code"], a["reason"]) for a in refused} == {
        ("conflict", "too_many_open")
    }
    assert str(open_limit()) in refused[0]["detail"]

    theirs = await new_game(bob)
    visitor, _, _ = await ws("/ws/game/lobby/")
    listed = [g["id"] for g in (await next_frame(visitor, "lobby.snapshot"))["games"]]
    assert sorted(listed) == sorted([*created, theirs.pk])

    await sync_to_async(service.join)(created[0], bob)
    assert (await create_answer(creator))["type"] == "lobby.created"
    for socket in (creator, visitor):
        await socket.disconnect()


def test_creates_at_once_from_many_threads_stop_at_the_limit(players):
    """Simultaneous creates by one user (as from several processes) keep the limit."""
    ann, *_ = players
    count = open_limit() + 3
    barrier = threading.Barrier(count)
    outcomes = []

    def create():
        from django.db import connection

        barrier.wait()
        try:
            outcomes.append(service.create_game(ann).pk)
        except service.GameError as exc:
            outcomes.append(exc.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("too_many_open") == 3
    assert Game.objects.filter(black=ann, status="waiting").count() == open_limit()


def test_two_moves_at_once_for_one_turn_one_is_played(players):
    """Two threads move for black at the same instant: exactly one move is kept."""
    ann, bob, _ = players
    game = service.create_game(ann)
    service.join(game.pk, bob)
    barrier = threading.Barrier(2)
    outcomes = []

    def move(x):
        from django.db import connection

        barrier.wait()
        try:
            outcomes.append(service.play(game.pk, ann, x, 7))
        except service.GameError as exc:
            outcomes.append(exc.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(x,)) for x in (3, 11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [2, "not_your_turn"]
    assert Move.objects.filter(game=game).count() == 1
    assert Game.objects.get(pk=game.pk).seq == 2


async def test_admin_abort_tells_the_players_why_and_closes_with_4010(
    ws, players, make_user
):
    """A moderator aborts a game: players get game.over "aborted", then close 4010."""
    ann, bob, _ = players
    game = await new_game(ann, bob)
    black, _, _ = await ws(f"/ws/game/{game.pk}/", user=ann)
    await next_frame(black, "game.snapshot")
    admin = await sync_to_async(make_user)("mod", is_staff=True, is_superuser=True)

    def abort():
        client = Client()
        client.force_login(admin)
        return client.post(
            "/admin/realtime/game/",
            {"action": "abort_games", "_selected_action": [game.pk]},
        )

    response = await sync_to_async(abort)()
    assert response.status_code == 302
    over = await next_frame(black, "game.over")
    assert (over["status"], over["reason"]) == ("aborted", "aborted")
    assert over["note"] == "Aborted by a moderator."
    closed = await black.receive_output(timeout=5)
    while closed["type"] != "websocket.close":
        closed = await black.receive_output(timeout=5)
    assert closed["code"] == 4010
    row = await game_row(game.pk)
    assert (row.status, row.winner_id) == ("aborted", None)
    assert await sync_to_async(service.record)(ann) == {
        "wins": 0,
        "losses": 0,
        "draws": 0,
    }


async def test_a_long_chinese_abort_note_closes_within_a_close_frames_bytes(
    ws, players
):
    """A moderator's note of 60 Chinese characters (180 bytes): the close
    reason is its first 41 characters, 123 bytes, not cut inside one."""
    from realtime.game import referee

    ann, bob, _ = players
    game = await new_game(ann, bob)
    black, _, _ = await ws(f"/ws/game/{game.pk}/", user=ann)
    await next_frame(black, "game.snapshot")
    note = "请勿使用外部引擎" * 8
    assert await sync_to_async(referee.abort)(game.pk, note[:60])
    closed = await black.receive_output(timeout=5)
    while closed["type"] != "websocket.close":
        closed = await black.receive_output(timeout=5)
    assert closed["code"] == 4010
    assert closed["reason"] == note[:41]


def test_pages_lobby_board_replay_and_record(client, players):
    """The lobby, a board, a finished game's replay and a player's record render."""
    ann, bob, _ = players
    game = service.create_game(ann)
    service.join(game.pk, bob)
    assert client.get("/game/").status_code == 200
    assert client.get(f"/game/{game.pk}/").status_code == 200
    assert client.get(f"/game/{game.pk}/replay/").status_code == 404  # not over yet
    for number, (x, y) in enumerate(BLACK_WINS):
        service.play(game.pk, ann if number % 2 == 0 else bob, x, y)
    page = client.get(f"/game/{game.pk}/replay/")
    assert page.status_code == 200
    assert page.context["replay"]["moves"][:2] == [[0, 0, "b"], [0, 1, "w"]]
    assert page.context["replay"]["line"] == [[x, 0] for x in range(5)]
    assert "ann wins as Black (five in a row)" in page.content.decode()
    record = client.get("/game/players/ann/")
    assert record.context["record"] == {"wins": 1, "losses": 0, "draws": 0}
    assert "1 wins, 0 losses, 0 draws" in record.content.decode()
    assert "ann wins as Black" in record.content.decode()
    chinese = client.get("/game/players/ann/", headers={"accept-language": "zh-hans"})
    assert "ann\uff08黑方\uff09获胜" in chinese.content.decode()
    assert client.get("/game/999999/").status_code == 404
