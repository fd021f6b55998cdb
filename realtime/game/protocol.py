"""Gomoku: ``/ws/game/<id>/`` (one game) and ``/ws/game/lobby/`` (the lobby).

Client -> server on a game socket: ``game.join`` (take the free seat),
``game.move``, ``game.resign``, ``game.claim`` (win against a player gone
longer than the grace period), ``game.rematch`` (offer, or accept an offer),
``game.chat`` and ``game.sync`` (resume after ``seq``). On the lobby socket:
``lobby.create``. docs/protocol.md ("Game") has examples of each frame.

Illegal actions get an error frame with a ``reason`` besides the usual
``code`` and ``detail``; they never change the game.
"""

from typing import Literal, NotRequired, TypedDict

from realtime.core.envelope import ErrorCode, ProtocolError, int_field, text_field

LOBBY_TOPIC = "game.lobby"
ONLINE_PLACE = "game.online"  # logged-in users on any game page
MAX_CHAT = 300
MAX_CLOCK_MINUTES = 60


def game_topic(game_id: int) -> str:
    """The topic of one game's events, also its presence place."""
    return f"game.{int(game_id)}"


class GameError(ProtocolError):
    """An action the referee refuses; the frame names the ``reason`` too."""

    def __init__(self, code: ErrorCode, reason: str, detail: str):
        super().__init__(code, detail)
        self.reason = reason

    def frame(self, ref: str | None = None):
        frame = dict(super().frame(ref))
        frame["reason"] = self.reason
        return frame


# Client frames.


class MoveFrame(TypedDict):
    type: Literal["game.move"]
    x: int
    y: int
    seq: NotRequired[int]  # the last seq the client saw; a stale one is refused


class ChatFrame(TypedDict):
    type: Literal["game.chat"]
    text: str


class SyncFrame(TypedDict):
    type: Literal["game.sync"]
    after: int


class CreateFrame(TypedDict):
    type: Literal["lobby.create"]
    clock: NotRequired[int]  # minutes per player; 0 or absent: no clock


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


# Server frames (every one of a game's reliable events carries its ``seq``).


class Player(TypedDict):
    id: int
    name: str


class Clock(TypedDict):
    black_ms: int | None
    white_ms: int | None
    running: Literal["b", "w"] | None  # whose clock runs now


class SnapshotFrame(TypedDict):
    type: Literal["game.snapshot"]
    seq: int
    game: dict  # id, status, black, white, board, moves, to_move, clock, ...


class StartedFrame(TypedDict):
    type: Literal["game.started"]
    seq: int
    black: Player
    white: Player
    to_move: str
    clock: Clock


class MovedFrame(TypedDict):
    type: Literal["game.move"]
    seq: int
    number: int
    x: int
    y: int
    color: Literal["b", "w"]
    by: Player
    to_move: str | None
    clock: Clock


class OverFrame(TypedDict):
    type: Literal["game.over"]
    seq: int
    status: Literal["finished", "aborted"]
    result: Literal["b", "w", "draw", ""]
    reason: str  # five, full, resign, timeout, abandon, aborted
    winner: Player | None
    line: list[list[int]]
    note: str
    clock: Clock


class RematchOfferedFrame(TypedDict):
    type: Literal["game.rematch_offered"]
    seq: int
    by: Player


class RematchFrame(TypedDict):
    type: Literal["game.rematch"]
    seq: int
    game: int  # the new game's id


class PresenceFrame(TypedDict):
    type: Literal["game.presence"]
    color: Literal["b", "w"]
    user: Player
    online: bool
    grace: int  # seconds after which the opponent may claim


class WatchersFrame(TypedDict):
    type: Literal["game.watchers"]
    count: int
    members: list[Player]


class ChatEvent(TypedDict):
    type: Literal["game.chat"]
    user: Player
    role: Literal["b", "w", "spectator"]
    text: str
    at: str


class LobbyGame(TypedDict):
    id: int
    status: str
    black: Player | None
    white: Player | None
    clock: int | None  # minutes per player
    spectators: NotRequired[int]


class LobbyFrame(TypedDict):
    type: Literal["lobby.snapshot"]
    games: list[LobbyGame]
    players: list[Player]


class LobbyGameFrame(TypedDict):
    type: Literal["lobby.game"]
    game: LobbyGame


def player(user) -> Player | None:
    return None if user is None else {"id": user.pk, "name": user.get_username()}
