"""The referee: every change to a game happens here, in one locked transaction.

Each action locks the game row (``SELECT ... FOR UPDATE``), so two moves sent
at the same instant for one turn, from any number of daphne processes, are
decided one after the other: the first is played, the second finds the turn
taken. Events are published after commit (``fanout.publish_on_commit``); a
refused action raises ``GameError`` and changes nothing.

Clocks: ``black_ms``/``white_ms`` are the remaining times as of
``turn_started_at``; ``deadline`` is when the side to move runs out. Whoever
looks at a game after its deadline (a move, a consumer's timer, a snapshot, the
lobby's sweep) settles the timeout, and the lock makes it happen once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from realtime.core import fanout
from realtime.core.envelope import ErrorCode, user_ref
from realtime.game import rules
from realtime.game.protocol import LOBBY_TOPIC, GameError, game_topic
from realtime.game.rules import BLACK, WHITE
from realtime.models import Game, Move

log = logging.getLogger(__name__)

Status, Reason = Game.Status, Game.Reason
LOBBY_LIMIT = 50


def grace_seconds() -> int:
    """How long a player may be gone before the opponent can claim the win."""
    return settings.DUPLEX["GAME_GRACE_SECONDS"]


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _locked(game_id: int) -> Game:
    try:
        return (
            Game.objects.select_for_update(of=("self",))
            .select_related("black", "white")
            .get(pk=game_id)
        )
    except Game.DoesNotExist:
        raise GameError(ErrorCode.NOT_FOUND, "no_game", "No such game.") from None


# What the wire sees.


def clock(game: Game, now: datetime) -> dict:
    """Remaining times as of ``now``; ``running`` is the side whose clock runs."""
    running = rules.to_move(game.board) if game.status == Status.ACTIVE else None
    if game.clock_ms is None:
        return {"black_ms": None, "white_ms": None, "running": running}
    times = {BLACK: game.black_ms, WHITE: game.white_ms}
    if running is not None:
        spent = _ms(now - game.turn_started_at)
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
    }


def snapshot(game_id: int) -> dict:
    """The whole game as the server holds it now (timeouts settled first)."""
    settle_timeout(game_id)
    with transaction.atomic():
        game = Game.objects.select_related("black", "white", "rematch_offered_by").get(
            pk=game_id
        )
        moves = list(
            Move.objects.filter(game=game, seq__lte=game.seq).values_list(
                "x", "y", "color", "seq"
            )
        )
    now = timezone.now()
    state = {
        **lobby_entry(game),
        "seq": game.seq,
        "board": game.board,
        "moves": [list(move) for move in moves],
        "to_move": rules.to_move(game.board) if game.status == Status.ACTIVE else None,
        "clock": clock(game, now),
        "result": game.result,
        "reason": game.reason,
        "note": game.note,
        "winner": user_ref(game.winner) if game.winner_id else None,
        "line": game.winning_line,
        "away": {
            BLACK: _iso(game.black_away_since),
            WHITE: _iso(game.white_away_since),
        },
        "grace": grace_seconds(),
        "rematch_offered_by": user_ref(game.rematch_offered_by),
        "rematch": game.rematch_id,
        "deadline": game.deadline.timestamp() if game.deadline else None,
    }
    return {"type": "game.snapshot", "seq": game.seq, "game": state}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def moves_after(game_id: int, after: int) -> tuple[int, list[dict]] | None:
    """The move events after ``after``, or None if the gap holds other events."""
    game = Game.objects.get(pk=game_id)
    moves = list(
        Move.objects.filter(game_id=game_id, seq__gt=after, seq__lte=game.seq)
        .select_related("player")
        .order_by("seq")
    )
    if len(moves) != game.seq - after:
        return None  # a start, an end or a rematch in the gap: resend a snapshot
    return game.seq, [_move_event(move) for move in moves]


def _move_event(move: Move, game: Game | None = None, now=None) -> dict:
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
        event["to_move"] = (
            rules.to_move(game.board) if game.status == Status.ACTIVE else None
        )
        event["clock"] = clock(game, now)
    return event


# Publishing, after commit.


def _publish(game: Game, event: dict) -> None:
    fanout.publish_on_commit(game_topic(game.pk), event)


def _publish_lobby(game: Game) -> None:
    fanout.publish_on_commit(
        LOBBY_TOPIC, {"type": "lobby.game", "game": lobby_entry(game)}, key=game.pk
    )


def _publish_deadline(game: Game) -> None:
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


# Actions.


def open_per_user() -> int:
    """How many games one user may have waiting for an opponent at once."""
    return settings.DUPLEX["GAME_OPEN_PER_USER"]


def _check_open_games(user) -> None:
    """Refuse a new game past the limit; the user's row lock serialises creates."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    limit = open_per_user()
    if Game.objects.filter(black=user, status=Status.WAITING).count() >= limit:
        games = "1 game" if limit == 1 else f"{limit} games"
        raise GameError(
            ErrorCode.CONFLICT,
            "too_many_open",
            f"You already have {games} waiting for an opponent; wait until one starts.",
        )


def create_game(user, clock_minutes: int = 0) -> Game:
    """A new game waiting for an opponent; its creator plays black."""
    with transaction.atomic():
        _check_open_games(user)
        game = Game.objects.create(
            black=user, clock_ms=clock_minutes * 60000 if clock_minutes else None
        )
        _publish_lobby(game)
    return game


def join(game_id: int, user) -> None:
    """Take the free seat (white) of a waiting game; the game and clocks start."""
    with transaction.atomic():
        game = _locked(game_id)
        if game.status != Status.WAITING:
            raise GameError(ErrorCode.CONFLICT, "not_open", "Both seats are taken.")
        if game.black_id == user.pk:
            raise GameError(
                ErrorCode.CONFLICT, "already_seated", "You already play in this game."
            )
        now = timezone.now()
        game.white = user
        game.status = Status.ACTIVE
        game.started_at = game.turn_started_at = now
        if game.clock_ms is not None:
            game.black_ms = game.white_ms = game.clock_ms
            game.deadline = now + timedelta(milliseconds=game.clock_ms)
        game.seq += 1
        game.save()
        _publish(
            game,
            {
                "type": "game.started",
                "seq": game.seq,
                "black": user_ref(game.black),
                "white": user_ref(game.white),
                "to_move": BLACK,
                "clock": clock(game, now),
            },
        )
        _publish_lobby(game)
        _publish_deadline(game)


def play(game_id: int, user, x: int, y: int, expected_seq: int | None = None) -> int:
    """Play (x, y) for ``user``; returns the move's seq or raises GameError."""
    failure = None
    with transaction.atomic():
        game = _locked(game_id)
        now = timezone.now()
        if _timed_out(game, now):
            _finish_timeout(game, now)  # committed, then the move is refused
            failure = GameError(ErrorCode.CONFLICT, "game_over", "Your time ran out.")
        else:
            try:
                return _apply_move(game, user, x, y, expected_seq, now)
            except GameError as exc:
                failure = exc  # raised after the block: nothing was written
    raise failure


def _check_turn(game: Game, user, expected_seq: int | None) -> str:
    color = game.color_of(user)
    if color is None:
        raise GameError(
            ErrorCode.FORBIDDEN, "not_a_player", "Only the two players can move."
        )
    if game.status == Status.WAITING:
        raise GameError(
            ErrorCode.CONFLICT, "not_started", "The game waits for an opponent."
        )
    if game.is_over:
        raise GameError(ErrorCode.CONFLICT, "game_over", "The game is over.")
    if expected_seq is not None and expected_seq != game.seq:
        raise GameError(
            ErrorCode.CONFLICT, "stale", "The game moved on; look at the board again."
        )
    if rules.to_move(game.board) != color:
        raise GameError(ErrorCode.CONFLICT, "not_your_turn", "It is not your turn.")
    return color


def _apply_move(game, user, x, y, expected_seq, now) -> int:
    color = _check_turn(game, user, expected_seq)
    try:
        board = rules.place(game.board, x, y, color)
    except rules.IllegalMove as exc:
        code = (
            ErrorCode.INVALID if exc.reason == "out_of_bounds" else ErrorCode.CONFLICT
        )
        raise GameError(code, exc.reason, exc.detail) from None
    if game.clock_ms is not None:
        field = "black_ms" if color == BLACK else "white_ms"
        setattr(game, field, getattr(game, field) - _ms(now - game.turn_started_at))
    game.board = board
    game.seq += 1
    move = Move.objects.create(
        game=game,
        seq=game.seq,
        number=rules.SIZE * rules.SIZE - board.count(rules.EMPTY),
        player=user,
        color=color,
        x=x,
        y=y,
    )
    line = rules.winning_line(board, x, y)
    if line:
        _finish(game, now, color, Reason.FIVE, line=line, publish=False)
    elif rules.is_full(board):
        _finish(game, now, "draw", Reason.FULL, publish=False)
    else:
        game.turn_started_at = now
        if game.clock_ms is not None:
            remaining = game.white_ms if color == BLACK else game.black_ms
            game.deadline = now + timedelta(milliseconds=remaining)
    game.save()
    _publish(game, _move_event(move, game, now))
    if game.is_over:
        game.seq += 1
        game.save(update_fields=["seq"])
        _publish_over(game, now)
    _publish_deadline(game)
    return move.seq


def _finish(game, now, result, reason, line=(), note="", publish=True) -> None:
    """End the game: ``result`` is a colour, "draw" or "" (aborted)."""
    game.status = Status.ABORTED if reason == Reason.ABORTED else Status.FINISHED
    game.result = result
    game.reason = reason
    game.note = note
    game.winner = game.player(result) if result in (BLACK, WHITE) else None
    game.winning_line = [list(cell) for cell in line]
    game.finished_at = now
    game.deadline = None
    if game.clock_ms is not None and game.turn_started_at is not None:
        running = rules.to_move(game.board)
        field = "black_ms" if running == BLACK else "white_ms"
        if reason not in (Reason.FIVE, Reason.FULL):  # a move already charged it
            spent = _ms(now - game.turn_started_at)
            setattr(game, field, max(0, getattr(game, field) - spent))
    if publish:
        game.seq += 1
        game.save()
        _publish_over(game, now)
        _publish_deadline(game)


def _publish_over(game: Game, now) -> None:
    _publish(
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
        },
    )
    _publish_lobby(game)


def _timed_out(game: Game, now) -> bool:
    return (
        game.status == Status.ACTIVE
        and game.deadline is not None
        and now >= game.deadline
    )


def _finish_timeout(game: Game, now) -> None:
    loser = rules.to_move(game.board)
    _finish(game, now, rules.other(loser), Reason.TIMEOUT)


def settle_timeout(game_id: int) -> bool:
    """End the game if the side to move has run out of time; True if it did."""
    now = timezone.now()
    due = Game.objects.filter(pk=game_id, status=Status.ACTIVE, deadline__lte=now)
    if not due.exists():  # the cheap check, without a lock
        return False
    with transaction.atomic():
        game = _locked(game_id)
        now = timezone.now()
        if not _timed_out(game, now):
            return False  # someone else settled it, or a move came first
        _finish_timeout(game, now)
        return True


def settle_expired() -> int:
    """Settle every game past its deadline (the lobby sweeps on each visit)."""
    now = timezone.now()
    ids = Game.objects.filter(status=Status.ACTIVE, deadline__lte=now).values_list(
        "pk", flat=True
    )
    return sum(settle_timeout(game_id) for game_id in list(ids))


def resign(game_id: int, user) -> None:
    with transaction.atomic():
        game = _locked(game_id)
        color = _player_in_active_game(game, user)
        _finish(game, timezone.now(), rules.other(color), Reason.RESIGN)


def _player_in_active_game(game: Game, user) -> str:
    color = game.color_of(user)
    if color is None:
        raise GameError(ErrorCode.FORBIDDEN, "not_a_player", "You do not play here.")
    if game.status == Status.WAITING:
        raise GameError(
            ErrorCode.CONFLICT, "not_started", "The game waits for an opponent."
        )
    if game.is_over:
        raise GameError(ErrorCode.CONFLICT, "game_over", "The game is over.")
    return color


def set_away(game_id: int, user, away: bool) -> str | None:
    """Record that a player's last socket left (or one came back); their colour."""
    game = Game.objects.filter(pk=game_id).first()
    color = game.color_of(user) if game else None
    if color is not None:
        field = "black_away_since" if color == BLACK else "white_away_since"
        Game.objects.filter(pk=game_id).update(
            **{field: timezone.now() if away else None}
        )
    return color


def claim(game_id: int, user, opponent_online: bool) -> None:
    """Win against an opponent gone longer than the grace period."""
    failure = None
    with transaction.atomic():
        game = _locked(game_id)
        now = timezone.now()
        if _timed_out(game, now):
            _finish_timeout(game, now)
            failure = GameError(ErrorCode.CONFLICT, "game_over", "Time ran out.")
        else:
            color = _player_in_active_game(game, user)
            since = game.white_away_since if color == BLACK else game.black_away_since
            if opponent_online or since is None:
                raise GameError(
                    ErrorCode.CONFLICT, "opponent_present", "Your opponent is here."
                )
            since = max(since, game.started_at)
            left = grace_seconds() - (now - since).total_seconds()
            if left > 0:
                raise GameError(
                    ErrorCode.CONFLICT,
                    "grace_period",
                    f"Wait {int(left) + 1} more seconds for your opponent.",
                )
            _finish(game, now, color, Reason.ABANDON)
    if failure:
        raise failure


def rematch(game_id: int, user) -> int | None:
    """Offer a rematch, or accept the opponent's offer: the new game's id then."""
    with transaction.atomic():
        game = _locked(game_id)
        color = game.color_of(user)
        if color is None:
            raise GameError(
                ErrorCode.FORBIDDEN, "not_a_player", "Only players can rematch."
            )
        if game.status != Status.FINISHED:
            raise GameError(ErrorCode.CONFLICT, "not_over", "Finish this game first.")
        if game.rematch_id:
            raise GameError(ErrorCode.CONFLICT, "rematch_exists", "Already rematched.")
        if game.rematch_offered_by_id == user.pk:
            raise GameError(
                ErrorCode.CONFLICT, "already_offered", "You already offered a rematch."
            )
        game.seq += 1
        if game.rematch_offered_by_id is None:
            game.rematch_offered_by = user
            game.save()
            _publish(
                game,
                {"type": "game.rematch_offered", "seq": game.seq, "by": user_ref(user)},
            )
            return None
        new = _start_rematch(game)
        game.rematch = new
        game.save()
        _publish(game, {"type": "game.rematch", "seq": game.seq, "game": new.pk})
        return new.pk


def _start_rematch(game: Game) -> Game:
    """The same two players, colours swapped, clocks as before, started at once."""
    now = timezone.now()
    new = Game(
        black=game.white,
        white=game.black,
        status=Status.ACTIVE,
        clock_ms=game.clock_ms,
        started_at=now,
        turn_started_at=now,
        seq=1,
    )
    if game.clock_ms is not None:
        new.black_ms = new.white_ms = game.clock_ms
        new.deadline = now + timedelta(milliseconds=game.clock_ms)
    new.save()
    _publish_lobby(new)
    return new


def abort(game_id: int, note: str) -> bool:
    """A moderator ends a game without a result; players are told ``note``."""
    log.info("moderation: abort game", extra={"event": "moderation", "target": game_id})
    with transaction.atomic():
        game = _locked(game_id)
        if game.is_over:
            return False
        _finish(game, timezone.now(), "", Reason.ABORTED, note=note[:200])
        fanout.publish_control_on_commit(
            game_topic(game.pk), {"kind": "abort", "note": game.note}
        )
        return True


# Reading.


def lobby_games() -> list[dict]:
    games = Game.objects.filter(
        status__in=[Status.WAITING, Status.ACTIVE]
    ).select_related("black", "white")[:LOBBY_LIMIT]
    return [lobby_entry(game) for game in games]


def record(user) -> dict:
    """Wins, losses and draws of ``user`` over finished games."""
    mine = Game.objects.filter(Q(black=user) | Q(white=user), status=Status.FINISHED)
    wins = mine.filter(winner=user).count()
    draws = mine.filter(result=Game.Result.DRAW).count()
    return {"wins": wins, "losses": mine.count() - wins - draws, "draws": draws}
