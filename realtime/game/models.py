"""Gomoku games and their moves; the referee is ``realtime.game.service``."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from realtime.game.rules import BLACK, EMPTY_BOARD, SIZE, WHITE


class Game(models.Model):
    """One game: its players, board, clocks and outcome.

    ``seq`` counts the game's state changes (start, each move, the end, a
    rematch offer, the rematch); every reliable event on the wire carries it.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for a player")
        ACTIVE = "active", _("in progress")
        FINISHED = "finished", _("finished")
        ABORTED = "aborted", _("aborted")

    class Result(models.TextChoices):
        NONE = "", _("none")
        BLACK = BLACK, _("black wins")
        WHITE = WHITE, _("white wins")
        DRAW = "draw", _("draw")

    class Reason(models.TextChoices):
        NONE = "", _("none")
        FIVE = "five", _("five in a row")
        FULL = "full", _("full board")
        RESIGN = "resign", _("resignation")
        TIMEOUT = "timeout", _("time out")
        ABANDON = "abandon", _("opponent left")
        ABORTED = "aborted", _("aborted by a moderator")
        AGREEMENT = "agreement", _("draw agreed")

    class Opening(models.TextChoices):
        FREESTYLE = "", _("freestyle")
        SWAP2 = "swap2", _("swap2")

    class Phase(models.TextChoices):
        """Swap2's steps (realtime.game.opening); "" once the colours are settled."""

        NONE = "", _("play")
        PLACE3 = "place3", _("the first player places three stones")
        CHOOSE = "choose", _("the second player chooses")
        PLACE2 = "place2", _("the second player places two more stones")
        FINAL_CHOOSE = "final", _("the first player chooses a colour")

    black = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="games_as_black",
        null=True,
        blank=True,
    )
    white = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="games_as_white",
        null=True,
        blank=True,
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    result = models.CharField(
        max_length=5, choices=Result.choices, default="", blank=True
    )
    reason = models.CharField(
        max_length=10, choices=Reason.choices, default="", blank=True
    )
    note = models.CharField(max_length=200, blank=True)  # e.g. a moderator's reason
    winner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="games_won",
        null=True,
        blank=True,
    )
    winning_line = models.JSONField(default=list, blank=True)
    board = models.CharField(max_length=SIZE * SIZE, default=EMPTY_BOARD)
    # Clocks: None means untimed. Remaining times are as of turn_started_at;
    # deadline is when the side to move runs out (indexed for the sweep).
    clock_ms = models.PositiveIntegerField(null=True, blank=True)
    increment_ms = models.PositiveIntegerField(default=0)  # added after each move
    black_ms = models.IntegerField(null=True, blank=True)
    white_ms = models.IntegerField(null=True, blank=True)
    turn_started_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    # When each player's last socket left the game (for the disconnect claim).
    black_away_since = models.DateTimeField(null=True, blank=True)
    white_away_since = models.DateTimeField(null=True, blank=True)
    rematch_offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    rematch = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        related_name="rematch_of",
        null=True,
        blank=True,
    )
    # The pending draw offer's colour ("" none), and each colour's offers so
    # far: {"b": [count, stones on the board at the last one]} (the rate limit).
    draw_offer = models.CharField(max_length=1, blank=True, default="")
    draw_offers = models.JSONField(default=dict, blank=True)
    opening = models.CharField(
        max_length=5, choices=Opening.choices, default="", blank=True
    )
    phase = models.CharField(
        max_length=6, choices=Phase.choices, default="", blank=True
    )
    rated = models.BooleanField(default=True)
    # Set once, with the result: {"b": [before, after], "w": [before, after]}.
    ratings = models.JSONField(default=dict, blank=True)
    seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Game {self.pk} ({self.get_status_display()})"

    def color_of(self, user) -> str | None:
        if user is None or not user.is_authenticated:
            return None
        if self.black_id == user.pk:
            return BLACK
        if self.white_id == user.pk:
            return WHITE
        return None

    def player(self, color: str):
        return self.black if color == BLACK else self.white

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.ABORTED)

    @property
    def outcome(self) -> str:
        """The result in words, naming the winner: "ann wins as Black"."""
        winner = self.player(self.result) if self.result in (BLACK, WHITE) else None
        if winner is None:
            return self.get_result_display()
        color = gettext("Black") if self.result == BLACK else gettext("White")
        return gettext("%(name)s wins as %(color)s") % {
            "name": winner.username,
            "color": color,
        }


class Move(models.Model):
    """One stone placed; ``seq`` is the game's seq when it was played."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="moves")
    seq = models.PositiveIntegerField()
    number = models.PositiveSmallIntegerField()  # 1 for black's first stone
    player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    color = models.CharField(max_length=1)
    x = models.PositiveSmallIntegerField()
    y = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "seq"]
        constraints = [
            # The database backs the referee: one stone per cell, one move per seq.
            models.UniqueConstraint(fields=["game", "seq"], name="game_move_seq"),
            models.UniqueConstraint(fields=["game", "x", "y"], name="game_move_cell"),
        ]

    def __str__(self):
        return f"{self.game_id}#{self.number} {self.color} ({self.x}, {self.y})"


class ChatLine(models.Model):
    """One line of a game's chat, kept so that late spectators read it too."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="chat")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=9)  # "b", "w" or "spectator"
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "id"]

    def __str__(self):
        return f"{self.game_id}: {self.text[:40]}"


class Rating(models.Model):
    """A player's Elo rating, changed once per finished rated game (ratings.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rating"
    )
    rating = models.IntegerField(default=1500, db_index=True)
    games = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    draws = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-rating", "user_id"]

    def __str__(self):
        return f"{self.user_id}: {self.rating}"


class Seek(models.Model):
    """One player looking for an opponent with a time control, from one socket.

    Kept in the database so that seeks on every daphne process meet; one per
    user (the unique user), deleted when its socket closes.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seek"
    )
    socket = models.CharField(max_length=32)  # the lobby socket's conn id
    clock_ms = models.PositiveIntegerField(null=True, blank=True)
    increment_ms = models.PositiveIntegerField(default=0)
    rated = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"seek {self.user_id} {self.clock_ms}+{self.increment_ms}"
