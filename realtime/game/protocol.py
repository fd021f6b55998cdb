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


class CreateFrame(Request):
    type: Literal["lobby.create"]
    clock: NotRequired[int]  # minutes per player; 0 or absent: no clock


CLIENT_FRAMES = (MoveFrame, ChatFrame, SyncFrame, CreateFrame)


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


class Clock(TypedDict):
    black_ms: int | None
    white_ms: int | None
    running: Literal["b", "w"] | None  # whose clock runs now


class GameState(TypedDict):
    """The whole game, as ``game.snapshot`` sends it (service.snapshot)."""

    id: int
    seq: int
    status: str
    black: UserRef | None
    white: UserRef | None
    board: str  # row by row: "." empty, "b", "w"
    moves: list[list[int | str]]  # [x, y, color, seq], in play order
    to_move: Literal["b", "w"] | None
    clock: Clock
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
    clock: Clock


class MovedFrame(Reply):
    type: Literal["game.move"]
    seq: int
    number: int
    x: int
    y: int
    color: Literal["b", "w"]
    by: UserRef
    to_move: NotRequired[str | None]  # these two on live moves; a replayed
    clock: NotRequired[Clock]  # move (game.sync) follows from the snapshot


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
    spectators: NotRequired[int]


class LobbyFrame(TypedDict):
    type: Literal["lobby.snapshot"]
    games: list[LobbyGame]
    players: list[UserRef]


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
