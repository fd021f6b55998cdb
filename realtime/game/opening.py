"""Swap2, the optional balanced opening rule (freestyle favours black).

Chosen when a game is created. The creator (the first player, in the black
seat) places three stones: black, white, black. The second player (the white
seat) then chooses one of three:

- ``white``: stay white and play the fourth stone;
- ``black``: take black; the first player, now white, plays the fourth stone;
- ``place2``: place two more stones (white, then black) and let the first
  player choose a colour (``black`` or ``white``); white plays next.

After the choice the game goes on as freestyle. Stones alternate black,
white, black... throughout, so the colour of a stone is still
``rules.to_move(board)``; what the phases change is *who* places it:
``seat_to_move`` is the seat whose player acts now, and the clocks run for
that seat. A colour change swaps the seats, with their players' clocks and
presence, so a seat always holds its player's own time.
"""

from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode
from realtime.game import rules
from realtime.game.protocol import GameError
from realtime.game.rules import BLACK, WHITE
from realtime.models import Game

Phase = Game.Phase
CHOICES = {
    Phase.CHOOSE: ("white", "black", "place2"),
    Phase.FINAL_CHOOSE: ("black", "white"),
}
SEAT_OF_PHASE = {
    Phase.PLACE3: BLACK,
    Phase.CHOOSE: WHITE,
    Phase.PLACE2: WHITE,
    Phase.FINAL_CHOOSE: BLACK,
}
PHASE_ENDS_AT = {Phase.PLACE3: (3, Phase.CHOOSE), Phase.PLACE2: (5, Phase.FINAL_CHOOSE)}


def seat_to_move(game: Game) -> str:
    """The seat ("b" or "w") whose player acts now: places a stone or chooses."""
    return SEAT_OF_PHASE.get(game.phase) or rules.to_move(game.board)


def begin(game: Game) -> None:
    """The game starts: swap2 begins with the first player's three stones."""
    game.phase = Phase.PLACE3 if game.opening == Game.Opening.SWAP2 else Phase.NONE


def check_stone(game: Game) -> None:
    """Refuse a stone while the player to act must choose instead."""
    if game.phase in CHOICES:
        raise GameError(
            ErrorCode.CONFLICT,
            "choose_first",
            _("Choose your colour first (swap2); no stone now."),
        )


def after_stone(game: Game) -> None:
    """Move to the next phase once the phase's stones are on the board."""
    stones, following = PHASE_ENDS_AT.get(game.phase, (None, None))
    if (
        stones is not None
        and rules.SIZE * rules.SIZE - game.board.count(rules.EMPTY) == stones
    ):
        game.phase = following


def apply_choice(game: Game, choice: str) -> None:
    """The chooser's colour, or ``place2``; raises GameError if not allowed now."""
    allowed = CHOICES.get(game.phase)
    if allowed is None:
        raise GameError(
            ErrorCode.CONFLICT, "no_choice", _("There is nothing to choose now.")
        )
    if choice not in allowed:
        raise GameError(
            ErrorCode.INVALID,
            "bad_choice",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)},
        )
    chooser = SEAT_OF_PHASE[game.phase]
    if choice == "place2":
        game.phase = Phase.PLACE2
        return
    if (choice == "white") != (chooser == WHITE):
        swap_seats(game)
    game.phase = Phase.NONE


def swap_seats(game: Game) -> None:
    """The two players change colours, each keeping their own clock and presence."""
    game.black, game.white = game.white, game.black
    game.black_ms, game.white_ms = game.white_ms, game.black_ms
    game.black_away_since, game.white_away_since = (
        game.white_away_since,
        game.black_away_since,
    )
