"""Ratings: Elo, changed once per finished rated game, with the result.

Why Elo and not Glicko-2: a game site with rating *periods* is what Glicko-2
was made for; here a rating changes after every game, in the transaction that
writes the result, and one number per player is what the leaderboard shows
and what a player can check by hand (``expected`` and ``change`` below are the
whole formula). Elo's weakness, new players' ratings moving too slowly, is
met as FIDE does: a larger K while a player has few games (``PROVISIONAL``).

``apply`` is called by the referee inside the game's locked transaction: the
two rows are locked in user id order (no deadlock between two games of the
same players), and ``game.ratings`` records the change, which makes a second
call a no-op.
"""

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from realtime.game.rules import BLACK, WHITE
from realtime.models import Game, Rating

START = 1500
K_NEW, K = 40, 20
PROVISIONAL = 30  # games played below which K_NEW applies
LEADERBOARD = 100


def expected(rating: int, opponent: int) -> float:
    """The score ``rating`` is expected to make against ``opponent`` (0 to 1)."""
    return 1 / (1 + 10 ** ((opponent - rating) / 400))


def change(rating: int, opponent: int, score: float, games: int) -> int:
    """Points won or lost: K times the score above the expected one."""
    k = K_NEW if games < PROVISIONAL else K
    return round(k * (score - expected(rating, opponent)))


def _scores(game: Game) -> dict[str, float]:
    if game.result == Game.Result.DRAW:
        return {BLACK: 0.5, WHITE: 0.5}
    return {game.result: 1.0, (WHITE if game.result == BLACK else BLACK): 0.0}


def _locked_rows(game: Game) -> dict[str, Rating]:
    ids = {BLACK: game.black_id, WHITE: game.white_id}
    for user_id in sorted(ids.values()):
        Rating.objects.get_or_create(user_id=user_id)
    rows = Rating.objects.select_for_update().filter(user_id__in=ids.values())
    by_user = {row.user_id: row for row in rows.order_by("user_id")}
    return {color: by_user[user_id] for color, user_id in ids.items()}


def apply(game: Game) -> None:
    """Rate a finished game once; ``game.ratings`` gets {color: [before, after]}."""
    if not game.rated or game.ratings or game.status != Game.Status.FINISHED:
        return
    if game.result not in (BLACK, WHITE, Game.Result.DRAW) or not game.white_id:
        return
    rows = _locked_rows(game)
    scores = _scores(game)
    before = {color: row.rating for color, row in rows.items()}
    for color, row in rows.items():
        opponent = before[WHITE if color == BLACK else BLACK]
        row.rating += change(before[color], opponent, scores[color], row.games)
        row.games += 1
        outcome = {1.0: "wins", 0.5: "draws", 0.0: "losses"}[scores[color]]
        setattr(row, outcome, getattr(row, outcome) + 1)
        row.save()
    game.ratings = {color: [before[color], rows[color].rating] for color in rows}


def rating_of(user) -> int:
    row = Rating.objects.filter(user=user).values_list("rating", flat=True).first()
    return START if row is None else row


def leaderboard(limit: int = LEADERBOARD) -> list[Rating]:
    """The best rated players, with their rank (ties share no rank: by id)."""
    rows = (
        Rating.objects.filter(games__gt=0)
        .select_related("user")
        .annotate(rank=Window(RowNumber(), order_by=[F("rating").desc(), "user_id"]))
    )
    return list(rows[:limit])
