"""The referee: moves, clocks and the ends of a game, each in one locked transaction.

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
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.core import fanout
from realtime.core.envelope import ErrorCode
from realtime.game import opening, ratings, rules
from realtime.game.events import (
    move_event,
    ms,
    publish_deadline,
    publish_game,
    publish_over,
    state_event,
)
from realtime.game.protocol import GameError, game_topic
from realtime.game.rules import BLACK, WHITE
from realtime.models import Game, Move

# The game's service logger: operators filter moderation lines by this name.
log = logging.getLogger("realtime.game.service")

Status, Reason = Game.Status, Game.Reason


def grace_seconds() -> int:
    """How long a player may be gone before the opponent can claim the win."""
    return settings.DUPLEX["GAME_GRACE_SECONDS"]


def locked(game_id: int) -> Game:
    try:
        return (
            Game.objects.select_for_update(of=("self",))
            .select_related("black", "white")
            .get(pk=game_id)
        )
    except Game.DoesNotExist:
        raise GameError(ErrorCode.NOT_FOUND, "no_game", _("No such game.")) from None


def play(game_id: int, user, x: int, y: int, expected_seq: int | None = None) -> int:
    """Play (x, y) for ``user``; returns the move's seq or raises GameError."""
    failure = None
    with transaction.atomic():
        game = locked(game_id)
        now = timezone.now()
        if _timed_out(game, now):
            _finish_timeout(game, now)  # committed, then the move is refused
            failure = GameError(
                ErrorCode.CONFLICT, "game_over", _("Your time ran out.")
            )
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
            ErrorCode.FORBIDDEN, "not_a_player", _("Only the two players can move.")
        )
    if game.status == Status.WAITING:
        raise GameError(
            ErrorCode.CONFLICT, "not_started", _("The game waits for an opponent.")
        )
    if game.is_over:
        raise GameError(ErrorCode.CONFLICT, "game_over", _("The game is over."))
    if expected_seq is not None and expected_seq != game.seq:
        raise GameError(
            ErrorCode.CONFLICT,
            "stale",
            _("The game moved on; look at the board again."),
        )
    if opening.seat_to_move(game) != color:
        raise GameError(ErrorCode.CONFLICT, "not_your_turn", _("It is not your turn."))
    return color


def _charge_clock(game: Game, seat: str, now, increment: bool) -> None:
    """Take the time ``seat`` spent from its clock; add the increment after a move."""
    if game.clock_ms is None:
        return
    field = "black_ms" if seat == BLACK else "white_ms"
    spent = ms(now - game.turn_started_at)
    bonus = game.increment_ms if increment else 0
    setattr(game, field, getattr(game, field) - spent + bonus)


def _start_turn(game: Game, now) -> None:
    """The next player's clock starts now: its deadline is when it runs out."""
    game.turn_started_at = now
    if game.clock_ms is not None:
        seat = opening.seat_to_move(game)
        remaining = game.black_ms if seat == BLACK else game.white_ms
        game.deadline = now + timedelta(milliseconds=remaining)


def _illegal_detail(exc: rules.IllegalMove, x: int, y: int) -> str:
    """The rules' refusal in the reader's language (rules.py stays free of Django)."""
    texts = {
        "out_of_bounds": _("(%(x)d, %(y)d) is off the 15x15 board."),
        "occupied": _("(%(x)d, %(y)d) already holds a stone."),
    }
    text = texts.get(exc.reason)
    return exc.detail if text is None else text % {"x": x, "y": y}


def _apply_move(game, user, x, y, expected_seq, now) -> int:
    seat = _check_turn(game, user, expected_seq)
    opening.check_stone(game)
    color = rules.to_move(
        game.board
    )  # the stone's colour (swap2: maybe not the seat's)
    try:
        board = rules.place(game.board, x, y, color)
    except rules.IllegalMove as exc:
        code = (
            ErrorCode.INVALID if exc.reason == "out_of_bounds" else ErrorCode.CONFLICT
        )
        raise GameError(code, exc.reason, _illegal_detail(exc, x, y)) from None
    game.board = board
    game.draw_offer = ""  # a move withdraws (or declines) a pending draw offer
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
    _charge_clock(game, seat, now, increment=not line and not rules.is_full(board))
    if line:
        finish(game, now, color, Reason.FIVE, line=line, publish=False)
    elif rules.is_full(board):
        finish(game, now, "draw", Reason.FULL, publish=False)
    else:
        opening.after_stone(game)
        _start_turn(game, now)
    game.save()
    publish_game(game, move_event(move, game, now))
    if game.is_over:
        game.seq += 1
        game.save(update_fields=["seq"])
        publish_over(game, now)
    publish_deadline(game)
    return move.seq


def finish(game, now, result, reason, line=(), note="", publish=True) -> None:
    """End the game: ``result`` is a colour, "draw" or "" (aborted)."""
    game.status = Status.ABORTED if reason == Reason.ABORTED else Status.FINISHED
    game.result = result
    game.reason = reason
    game.note = note
    game.winner = game.player(result) if result in (BLACK, WHITE) else None
    game.winning_line = [list(cell) for cell in line]
    game.finished_at = now
    game.deadline = None
    game.draw_offer = ""
    if game.clock_ms is not None and game.turn_started_at is not None:
        running = opening.seat_to_move(game)
        field = "black_ms" if running == BLACK else "white_ms"
        if reason not in (Reason.FIVE, Reason.FULL):  # a move already charged it
            spent = ms(now - game.turn_started_at)
            setattr(game, field, max(0, getattr(game, field) - spent))
    ratings.apply(game)  # in this transaction: a result is never without its rating
    if publish:
        game.seq += 1
        game.save()
        publish_over(game, now)
        publish_deadline(game)


def _timed_out(game: Game, now) -> bool:
    return (
        game.status == Status.ACTIVE
        and game.deadline is not None
        and now >= game.deadline
    )


def _finish_timeout(game: Game, now) -> None:
    loser = opening.seat_to_move(game)
    finish(game, now, rules.other(loser), Reason.TIMEOUT)


def settle_timeout(game_id: int) -> bool:
    """End the game if the side to move has run out of time; True if it did."""
    now = timezone.now()
    due = Game.objects.filter(pk=game_id, status=Status.ACTIVE, deadline__lte=now)
    if not due.exists():  # the cheap check, without a lock
        return False
    with transaction.atomic():
        game = locked(game_id)
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
        game = locked(game_id)
        color = player_in_active_game(game, user)
        finish(game, timezone.now(), rules.other(color), Reason.RESIGN)


def player_in_active_game(game: Game, user) -> str:
    color = game.color_of(user)
    if color is None:
        raise GameError(ErrorCode.FORBIDDEN, "not_a_player", _("You do not play here."))
    if game.status == Status.WAITING:
        raise GameError(
            ErrorCode.CONFLICT, "not_started", _("The game waits for an opponent.")
        )
    if game.is_over:
        raise GameError(ErrorCode.CONFLICT, "game_over", _("The game is over."))
    return color


def claim(game_id: int, user, opponent_online: bool) -> None:
    """Win against an opponent gone longer than the grace period."""
    failure = None
    with transaction.atomic():
        game = locked(game_id)
        now = timezone.now()
        if _timed_out(game, now):
            _finish_timeout(game, now)
            failure = GameError(ErrorCode.CONFLICT, "game_over", _("Time ran out."))
        else:
            color = player_in_active_game(game, user)
            since = game.white_away_since if color == BLACK else game.black_away_since
            if opponent_online or since is None:
                raise GameError(
                    ErrorCode.CONFLICT, "opponent_present", _("Your opponent is here.")
                )
            since = max(since, game.started_at)
            left = grace_seconds() - (now - since).total_seconds()
            if left > 0:
                raise GameError(
                    ErrorCode.CONFLICT,
                    "grace_period",
                    _("Wait %(n)d more seconds for your opponent.")
                    % {"n": int(left) + 1},
                )
            finish(game, now, color, Reason.ABANDON)
    if failure:
        raise failure


def choose(game_id: int, user, choice: str) -> None:
    """Swap2: the player to act chooses a colour, or to place two more stones."""
    failure = None
    with transaction.atomic():
        game = locked(game_id)
        now = timezone.now()
        if _timed_out(game, now):
            _finish_timeout(game, now)
            failure = GameError(
                ErrorCode.CONFLICT, "game_over", _("Your time ran out.")
            )
        else:
            seat = player_in_active_game(game, user)
            if game.phase in opening.CHOICES and seat != opening.seat_to_move(game):
                raise GameError(
                    ErrorCode.CONFLICT, "not_your_turn", _("Your opponent chooses now.")
                )
            opening.apply_choice(game, choice)
            _charge_clock(game, seat, now, increment=False)
            _start_turn(game, now)
            game.seq += 1
            game.save()
            publish_game(game, state_event(game, now, "game.opening", choice=choice))
            publish_deadline(game)
    if failure:
        raise failure


def abort(game_id: int, note: str) -> bool:
    """A moderator ends a game without a result; players are told ``note``."""
    log.info("moderation: abort game", extra={"event": "moderation", "target": game_id})
    with transaction.atomic():
        game = locked(game_id)
        if game.is_over:
            return False
        finish(game, timezone.now(), "", Reason.ABORTED, note=note[:200])
        fanout.publish_control_on_commit(
            game_topic(game.pk), {"kind": "abort", "note": game.note}
        )
        return True
