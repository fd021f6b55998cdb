"""Gomoku: ``/ws/game/<id>/`` (one game) and ``/ws/game/lobby/`` (the lobby).

Client -> server on a game socket: ``game.join`` (take the free seat),
``game.move``, ``game.resign``, ``game.claim`` (win against a player gone
longer than the grace period), ``game.rematch`` (offer, or accept an offer),
``game.chat``, ``game.sync`` (resume after ``seq``), ``game.draw_offer``,
``game.draw_accept``, ``game.draw_decline`` and ``game.choose`` (swap2's
colour choice). On the lobby socket: ``lobby.create``, ``lobby.seek`` and
``lobby.cancel_seek``. docs/protocol.md ("Game") has examples of each frame.

Illegal actions get an error frame with a ``reason`` besides the usual
``code`` and ``detail``; they never change the game.
"""

from typing import Literal, NotRequired, TypedDict

from django.utils.translation import gettext as _

from realtime.core.envelope import (
    ErrorCode,
    ProtocolError,
    Ref,
    Reply,
    Request,
    UserRef,
    int_field,
    text_field,
)

LOBBY_TOPIC = "game.lobby"
ONLINE_PLACE = "game.online"  # logged-in users on any game page
MAX_CHAT = 300
MAX_CLOCK_MINUTES = 60
MAX_INCREMENT_SECONDS = 60
OPENINGS = ("", "swap2")


def game_topic(game_id: int) -> str:
    """The topic of one game's events, also its presence place."""
    return f"game.{int(game_id)}"


class GameError(ProtocolError):
    """An action the referee refuses; the frame names the ``reason`` too."""

    def __init__(self, code: ErrorCode, reason: str, detail: str):
        super().__init__(code, detail)
        self.reason = reason

    def frame(self, ref: Ref | None = None):
        frame = dict(super().frame(ref))
        frame["reason"] = self.reason
        return frame


# Client frames.


class MoveFrame(Request):
    type: Literal["game.move"]
    x: int
    y: int
    seq: NotRequired[int]  # the last seq the client saw; a stale one is refused


class ChatFrame(Request):
    type: Literal["game.chat"]
    text: str


class SyncFrame(Request):
    type: Literal["game.sync"]
    after: int


class ChooseFrame(Request):
    """Swap2: the chooser's colour ("black", "white"), or "place2"."""

    type: Literal["game.choose"]
    choice: str


class CreateFrame(Request):
    type: Literal["lobby.create"]
    clock: NotRequired[int]  # minutes per player; 0 or absent: no clock
    increment: NotRequired[int]  # seconds added after each move (timed games)
    opening: NotRequired[Literal["", "swap2"]]
    rated: NotRequired[bool]  # default true


class SeekFrame(Request):
    type: Literal["lobby.seek"]
    clock: NotRequired[int]
    increment: NotRequired[int]
    rated: NotRequired[bool]


CLIENT_FRAMES = (MoveFrame, ChatFrame, SyncFrame, ChooseFrame, CreateFrame, SeekFrame)


def read_move(frame: dict) -> tuple[int, int, int | None]:
    """x and y (any integer: the referee says out_of_bounds) and optional seq."""
    x = int_field(frame, "x", minimum=-(2**31), maximum=2**31)
    y = int_field(frame, "y", minimum=-(2**31), maximum=2**31)
    seq = int_field(frame, "seq") if "seq" in frame else None
    return x, y, seq


def read_chat(frame: dict) -> str:
    return text_field(frame, "text", max_length=MAX_CHAT)


def read_after(frame: dict) -> int:
    return int_field(frame, "after", default=0)


def read_clock(frame: dict) -> int:
    return int_field(frame, "clock", maximum=MAX_CLOCK_MINUTES, default=0)


def read_time_control(frame: dict) -> dict:
    """Clock minutes, increment seconds and the rated flag of a create or seek."""
    rated = frame.get("rated", True)
    if not isinstance(rated, bool):
        raise ProtocolError(ErrorCode.INVALID, _('"rated" must be true or false.'))
    return {
        "clock_minutes": read_clock(frame),
        "increment_seconds": int_field(
            frame, "increment", maximum=MAX_INCREMENT_SECONDS, default=0
        ),
        "rated": rated,
    }


def read_opening(frame: dict) -> str:
    value = frame.get("opening", "")
    if value not in OPENINGS:
        raise ProtocolError(ErrorCode.INVALID, _('"opening" must be "" or "swap2".'))
    return value


def read_choice(frame: dict) -> str:
    return text_field(frame, "choice", max_length=10)


# Server frames (every one of a game's reliable events carries its ``seq``).


class Clock(TypedDict):
    black_ms: int | None
    white_ms: int | None
    running: Literal["b", "w"] | None  # whose clock runs now


Ratings = dict[str, list[int]]  # color -> [before, after]; {} if not rated (yet)


class GameState(TypedDict):
    """The whole game, as ``game.snapshot`` sends it (service.snapshot)."""

    id: int
    seq: int
    status: str
    black: UserRef | None
    white: UserRef | None
    board: str  # row by row: "." empty, "b", "w"
    moves: list[list[int | str]]  # [x, y, color, seq], in play order
    to_move: Literal["b", "w"] | None  # the seat to act (swap2: maybe not the stone's)
    phase: str  # swap2's step: place3, choose, place2, final; "" otherwise
    clock: Clock
    minutes: int | None  # the clock each player started with
    result: Literal["b", "w", "draw", ""]
    reason: str
    note: str
    winner: UserRef | None
    line: list[list[int]]
    away: dict[str, str | None]  # color -> ISO 8601 time its player left
    grace: int
    rematch_offered_by: UserRef | None
    rematch: int | None  # the rematch game's id
    deadline: float | None  # epoch seconds a waiting game expires
    draw_offer: Literal["b", "w"] | None  # the colour whose draw offer is pending
    draw_offers_left: dict[str, int]  # color -> offers it may still make
    draw_offer_stones: dict[str, int]  # color -> stones at its last offer (-1: none)
    ratings: Ratings
    increment: int  # seconds added after each move
    opening: Literal["", "swap2"]
    rated: bool


class SnapshotFrame(Reply):
    type: Literal["game.snapshot"]
    seq: int
    game: GameState


class StartedFrame(TypedDict):
    type: Literal["game.started"]
    seq: int
    black: UserRef
    white: UserRef
    to_move: str
    phase: str
    clock: Clock


class MovedFrame(Reply):
    type: Literal["game.move"]
    seq: int
    number: int
    x: int
    y: int
    color: Literal["b", "w"]
    by: UserRef
    to_move: NotRequired[str | None]  # these three on live moves; a replayed
    phase: NotRequired[str]  # move (game.sync) follows from the snapshot
    clock: NotRequired[Clock]


class OverFrame(TypedDict):
    type: Literal["game.over"]
    seq: int
    status: Literal["finished", "aborted"]
    result: Literal["b", "w", "draw", ""]
    reason: str  # five, full, resign, timeout, abandon, aborted
    winner: UserRef | None
    line: list[list[int]]
    note: str
    clock: Clock
    ratings: Ratings


class DrawOfferedFrame(TypedDict):
    type: Literal["game.draw_offered"]
    seq: int
    by: UserRef


class DrawDeclinedFrame(TypedDict):
    type: Literal["game.draw_declined"]
    seq: int
    by: UserRef


class OpeningFrame(TypedDict):
    """Swap2: a choice was made; the seats (maybe swapped), the phase, who acts."""

    type: Literal["game.opening"]
    seq: int
    choice: str
    phase: str
    black: UserRef
    white: UserRef
    to_move: Literal["b", "w"] | None
    clock: Clock


class RematchOfferedFrame(TypedDict):
    type: Literal["game.rematch_offered"]
    seq: int
    by: UserRef


class RematchFrame(TypedDict):
    type: Literal["game.rematch"]
    seq: int
    game: int  # the new game's id


class PresenceFrame(TypedDict):
    type: Literal["game.presence"]
    color: Literal["b", "w"]
    user: UserRef
    online: bool
    grace: int  # seconds after which the opponent may claim


class WatchersFrame(TypedDict):
    type: Literal["game.watchers"]
    count: int
    members: list[UserRef]


class ChatEvent(TypedDict):
    type: Literal["game.chat"]
    id: int
    user: UserRef
    role: Literal["b", "w", "spectator"]
    text: str
    at: str


class ChatHistoryFrame(TypedDict):
    """The last lines of the game's chat, oldest first, on arrival."""

    type: Literal["game.chat_history"]
    lines: list[ChatEvent]


class LobbyGame(TypedDict):
    id: int
    seq: int  # the game's seq: the lobby keeps the newest state per game
    status: str
    black: UserRef | None
    white: UserRef | None
    clock: int | None  # minutes per player
    increment: int  # seconds per move
    opening: Literal["", "swap2"]
    rated: bool
    spectators: NotRequired[int]


class SeekGroup(TypedDict):
    clock: int  # minutes; 0: no clock
    increment: int
    rated: bool
    count: int  # players seeking this time control


class LobbyFrame(TypedDict):
    type: Literal["lobby.snapshot"]
    games: list[LobbyGame]
    players: list[UserRef]
    seeks: list[SeekGroup]


class LobbySeeksFrame(TypedDict):
    """The seek pool by time control (conflated)."""

    type: Literal["lobby.seeks"]
    seeks: list[SeekGroup]


class Seeking(TypedDict):
    clock: int
    increment: int
    rated: bool


class LobbySeekingFrame(Reply):
    """This socket's seek: waiting (after ``lobby.seek``), or gone (null)."""

    type: Literal["lobby.seeking"]
    seek: Seeking | None


class LobbyPairedFrame(Reply):
    """A seek was paired: the new game, already started, to go to."""

    type: Literal["lobby.paired"]
    id: int


class LobbyGameFrame(TypedDict):
    type: Literal["lobby.game"]
    game: LobbyGame


class LobbyPlayersFrame(TypedDict):
    """Logged-in users on any game page (conflated)."""

    type: Literal["lobby.players"]
    players: list[UserRef]


class LobbySpectatorsFrame(TypedDict):
    """The spectator count of one game (conflated per game)."""

    type: Literal["lobby.spectators"]
    id: int
    count: int


class LobbyCreatedFrame(Reply):
    """The reply to ``lobby.create``: the new game's id."""

    type: Literal["lobby.created"]
    id: int
