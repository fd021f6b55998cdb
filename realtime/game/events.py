"""What a game's sockets and the lobby see: clocks, entries, move frames, and
their publication after commit (``fanout.publish_on_commit``)."""

from datetime import datetime, timedelta

from realtime.core import fanout
from realtime.core.envelope import user_ref
from realtime.game import opening
from realtime.game.protocol import LOBBY_TOPIC, game_topic
from realtime.game.rules import BLACK, WHITE
from realtime.models import Game, Move

Status = Game.Status


def ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def clock(game: Game, now: datetime) -> dict:
    """Remaining times as of ``now``; ``running`` is the side whose clock runs."""
    running = opening.seat_to_move(game) if game.status == Status.ACTIVE else None
    if game.clock_ms is None:
        return {"black_ms": None, "white_ms": None, "running": running}
    times = {BLACK: game.black_ms, WHITE: game.white_ms}
    if running is not None:
        spent = ms(now - game.turn_started_at)
        times[running] = max(0, times[running] - spent)
    return {"black_ms": times[BLACK], "white_ms": times[WHITE], "running": running}


def lobby_entry(game: Game) -> dict:
    return {
        "id": game.pk,
        "seq": game.seq,  # the lobby keeps the newest state per game
        "status": game.status,
        "black": user_ref(game.black),
        "white": user_ref(game.white),
        "clock": None if game.clock_ms is None else game.clock_ms // 60000,
        "increment": game.increment_ms // 1000,
        "opening": game.opening,
        "rated": game.rated,
    }


def to_move(game: Game) -> str | None:
    """The seat to act, while the game is on."""
    return opening.seat_to_move(game) if game.status == Status.ACTIVE else None


def state_event(game: Game, now, kind: str, **extra) -> dict:
    """A change of seats or phase (swap2's choice): who sits where, who acts."""
    return {
        "type": kind,
        "seq": game.seq,
        "phase": game.phase,
        "black": user_ref(game.black),
        "white": user_ref(game.white),
        "to_move": to_move(game),
        "clock": clock(game, now),
        **extra,
    }


def move_event(move: Move, game: Game | None = None, now=None) -> dict:
    event = {
        "type": "game.move",
        "seq": move.seq,
        "number": move.number,
        "x": move.x,
        "y": move.y,
        "color": move.color,
        "by": user_ref(move.player),
    }
    if game is not None:  # live: the state after the move (a replay has a snapshot)
        event["to_move"] = to_move(game)
        event["phase"] = game.phase
        event["clock"] = clock(game, now)
    return event


# Publishing, after commit.


def publish_game(game: Game, event: dict) -> None:
    fanout.publish_on_commit(game_topic(game.pk), event)


def publish_lobby(game: Game) -> None:
    fanout.publish_on_commit(
        LOBBY_TOPIC, {"type": "lobby.game", "game": lobby_entry(game)}, key=game.pk
    )


def publish_deadline(game: Game) -> None:
    """Tell every consumer of the game when to check the clock (not sent to sockets)."""
    deadline = game.deadline.timestamp() if game.deadline else None
    fanout.publish_control_on_commit(
        game_topic(game.pk),
        {
            "kind": "deadline",
            "deadline": deadline,
            "black": game.black_id,
            "white": game.white_id,
        },
    )


def publish_over(game: Game, now) -> None:
    publish_game(
        game,
        {
            "type": "game.over",
            "seq": game.seq,
            "status": game.status,
            "result": game.result,
            "reason": game.reason,
            "winner": user_ref(game.winner),
            "line": game.winning_line,
            "note": game.note,
            "clock": clock(game, now),
            "ratings": game.ratings,
        },
    )
    publish_lobby(game)
