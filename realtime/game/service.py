"""A game's service: the lobby, seats, rematches, snapshots and records.

Every change to a game happens in one locked transaction; the moves, clocks
and ends of a game are the referee's (``realtime.game.referee``), re-exported
here so that consumers, views and admin import one module.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from realtime.core.envelope import ErrorCode, user_ref
from realtime.game import draws, opening, ratings
from realtime.game.events import (
    clock,
    lobby_entry,
    move_event,
    publish_deadline,
    publish_game,
    publish_lobby,
    to_move,
)
from realtime.game.protocol import GameError
from realtime.game.referee import (
    abort,
    choose,
    claim,
    grace_seconds,
    locked,
    play,
    resign,
    settle_expired,
    settle_timeout,
)
from realtime.game.rules import BLACK, WHITE
from realtime.models import Game, Move

__all__ = [
    "Game",
    "GameError",
    "abort",
    "choose",
    "claim",
    "clock",
    "create_game",
    "draws",
    "grace_seconds",
    "join",
    "lobby_entry",
    "lobby_games",
    "moves_after",
    "open_per_user",
    "play",
    "ratings",
    "record",
    "rematch",
    "resign",
    "set_away",
    "settle_expired",
    "settle_timeout",
    "snapshot",
]

Status = Game.Status
LOBBY_LIMIT = 50


# Seats and rematches.


def open_per_user() -> int:
    """How many games one user may have waiting for an opponent at once."""
    return settings.DUPLEX["GAME_OPEN_PER_USER"]


def _check_open_games(user) -> None:
    """Refuse a new game past the limit; the user's row lock serialises creates."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    limit = open_per_user()
    if Game.objects.filter(black=user, status=Status.WAITING).count() >= limit:
        detail = ngettext(
            "You already have %(n)d game waiting for an opponent; "
            "wait until one starts.",
            "You already have %(n)d games waiting for an opponent; "
            "wait until one starts.",
            limit,
        ) % {"n": limit}
        raise GameError(ErrorCode.CONFLICT, "too_many_open", detail)


def create_game(
    user,
    clock_minutes: int = 0,
    *,
    increment_seconds: int = 0,
    opening_rule: str = "",
    rated: bool = True,
) -> Game:
    """A new game waiting for an opponent; its creator plays black.

    ``increment_seconds`` is added to a player's clock after each move (timed
    games only); ``opening_rule`` is "" (freestyle) or "swap2".
    """
    with transaction.atomic():
        _check_open_games(user)
        game = Game.objects.create(
            black=user,
            clock_ms=clock_minutes * 60000 if clock_minutes else None,
            increment_ms=increment_seconds * 1000 if clock_minutes else 0,
            opening=opening_rule,
            rated=rated,
        )
        publish_lobby(game)
    return game


def start(game: Game, now) -> None:
    """Both seats are taken: the game, its first clock and its opening begin."""
    game.status = Status.ACTIVE
    game.started_at = game.turn_started_at = now
    opening.begin(game)
    if game.clock_ms is not None:
        game.black_ms = game.white_ms = game.clock_ms
        game.deadline = now + timedelta(milliseconds=game.clock_ms)


def join(game_id: int, user) -> None:
    """Take the free seat (white) of a waiting game; the game and clocks start."""
    with transaction.atomic():
        game = locked(game_id)
        if game.status != Status.WAITING:
            raise GameError(ErrorCode.CONFLICT, "not_open", _("Both seats are taken."))
        if game.black_id == user.pk:
            raise GameError(
                ErrorCode.CONFLICT,
                "already_seated",
                _("You already play in this game."),
            )
        now = timezone.now()
        game.white = user
        start(game, now)
        game.seq += 1
        game.save()
        publish_game(
            game,
            {
                "type": "game.started",
                "seq": game.seq,
                "black": user_ref(game.black),
                "white": user_ref(game.white),
                "to_move": BLACK,
                "phase": game.phase,
                "clock": clock(game, now),
            },
        )
        publish_lobby(game)
        publish_deadline(game)


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


def rematch(game_id: int, user) -> int | None:
    """Offer a rematch, or accept the opponent's offer: the new game's id then."""
    with transaction.atomic():
        game = locked(game_id)
        color = game.color_of(user)
        if color is None:
            raise GameError(
                ErrorCode.FORBIDDEN, "not_a_player", _("Only players can rematch.")
            )
        if game.status != Status.FINISHED:
            raise GameError(
                ErrorCode.CONFLICT, "not_over", _("Finish this game first.")
            )
        if game.rematch_id:
            raise GameError(
                ErrorCode.CONFLICT, "rematch_exists", _("Already rematched.")
            )
        if game.rematch_offered_by_id == user.pk:
            raise GameError(
                ErrorCode.CONFLICT,
                "already_offered",
                _("You already offered a rematch."),
            )
        game.seq += 1
        if game.rematch_offered_by_id is None:
            game.rematch_offered_by = user
            game.save()
            publish_game(
                game,
                {"type": "game.rematch_offered", "seq": game.seq, "by": user_ref(user)},
            )
            return None
        new = _start_rematch(game)
        game.rematch = new
        game.save()
        publish_game(game, {"type": "game.rematch", "seq": game.seq, "game": new.pk})
        return new.pk


def _start_rematch(game: Game) -> Game:
    """The same two players, colours swapped, rules as before, started at once."""
    new = Game(
        black=game.white,
        white=game.black,
        clock_ms=game.clock_ms,
        increment_ms=game.increment_ms,
        opening=game.opening,
        rated=game.rated,
        seq=1,
    )
    start(new, timezone.now())
    new.save()
    publish_lobby(new)
    return new


# Reading.


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
        "to_move": to_move(game),
        "phase": game.phase,
        "clock": clock(game, now),
        "minutes": None if game.clock_ms is None else game.clock_ms // 60000,
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
        "draw_offer": game.draw_offer or None,
        "draw_offers_left": {
            color: draws.offers_per_game() - game.draw_offers.get(color, [0])[0]
            for color in (BLACK, WHITE)
        },
        "draw_offer_stones": {
            color: game.draw_offers.get(color, [0, -1])[1] for color in (BLACK, WHITE)
        },
        "ratings": game.ratings,
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
    if game.opening == Game.Opening.SWAP2 and any(m.number <= 5 for m in moves):
        return None  # a replayed move has no phase; swap2's first five need one
    return game.seq, [move_event(move) for move in moves]


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
