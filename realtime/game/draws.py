"""Draw offers: offer, accept, decline; a move withdraws a pending offer.

Bounded: one offer is pending at a time (an offer while the opponent's is
pending is refused: accept it instead), each player may offer
``GAME_DRAW_OFFERS`` times per game, and not again before a stone has been
played since their last offer. ``game.draw_offers`` keeps, per colour, the
count and the number of stones on the board at the last offer.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode, user_ref
from realtime.game import rules
from realtime.game.events import publish_game
from realtime.game.protocol import GameError
from realtime.game.referee import Reason, finish, locked, player_in_active_game


def offers_per_game() -> int:
    return settings.DUPLEX["GAME_DRAW_OFFERS"]


def _stones(game) -> int:
    return rules.SIZE * rules.SIZE - game.board.count(rules.EMPTY)


def _check_offer(game, color: str) -> list[int]:
    if game.draw_offer == color:
        raise GameError(
            ErrorCode.CONFLICT, "draw_pending", _("Your draw offer is still pending.")
        )
    if game.draw_offer:
        raise GameError(
            ErrorCode.CONFLICT,
            "draw_offered",
            _("Your opponent offers a draw: accept or decline it."),
        )
    count, stones = game.draw_offers.get(color, [0, -1])
    if count >= offers_per_game():
        raise GameError(
            ErrorCode.RATE_LIMITED,
            "draw_limit",
            _("You may offer a draw %(n)d times per game.") % {"n": offers_per_game()},
        )
    if stones == _stones(game):
        raise GameError(
            ErrorCode.RATE_LIMITED,
            "draw_too_soon",
            _("Play on before offering a draw again."),
        )
    return [count + 1, _stones(game)]


def offer(game_id: int, user) -> None:
    """Offer a draw to the opponent."""
    with transaction.atomic():
        game = locked(game_id)
        color = player_in_active_game(game, user)
        game.draw_offers = {**game.draw_offers, color: _check_offer(game, color)}
        game.draw_offer = color
        game.seq += 1
        game.save()
        event = {"type": "game.draw_offered", "seq": game.seq, "by": user_ref(user)}
        publish_game(game, event)


def _pending_for(game, user) -> str:
    """The colour of ``user`` if an offer of their opponent waits for them."""
    color = player_in_active_game(game, user)
    if not game.draw_offer or game.draw_offer == color:
        raise GameError(
            ErrorCode.CONFLICT, "no_draw_offer", _("There is no draw offer to answer.")
        )
    return color


def accept(game_id: int, user) -> None:
    """Accept the opponent's offer: the game ends in a draw (rated as one)."""
    with transaction.atomic():
        game = locked(game_id)
        _pending_for(game, user)
        finish(game, timezone.now(), "draw", Reason.AGREEMENT)


def decline(game_id: int, user) -> None:
    """Decline the opponent's offer; the game goes on."""
    with transaction.atomic():
        game = locked(game_id)
        _pending_for(game, user)
        game.draw_offer = ""
        game.seq += 1
        game.save()
        event = {"type": "game.draw_declined", "seq": game.seq, "by": user_ref(user)}
        publish_game(game, event)
