"""Live scores: ``/ws/scores/``. Anyone may watch.

Client -> server: ``scores.subscribe`` / ``scores.unsubscribe`` with
``matches``: ``"all"`` or a list of match ids. Server -> client: one
``scores.snapshot`` per subscribe, then ``scores.match`` whenever a match
changes. Each ``scores.match`` carries the whole state of one match and is
conflated per match id: a slow or returning client gets the newest state.

``scores.standings`` with ``competition`` (an id) sends that competition's
league table and follows it: a new ``scores.standings`` frame goes out each
time a result changes it (conflated per competition, ordered by ``rev``).
"""

from typing import Literal, NotRequired, TypedDict

from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode, ProtocolError, Reply, Request

TOPIC_ALL = "scores"
MAX_MATCHES = 50
MAX_TABLES = 10  # standings one socket may follow


def match_topic(match_id: int) -> str:
    return f"scores.match.{match_id}"


def table_topic(competition_id: int) -> str:
    return f"scores.table.{competition_id}"


class TeamState(TypedDict):
    id: int
    name: str
    short: str
    score: int


class EventState(TypedDict):
    id: int
    kind: Literal["kick_off", "goal", "card", "substitution", "half_time", "full_time"]
    minute: int
    team: int | None
    player: str
    detail: str


class MatchState(TypedDict):
    id: int
    rev: int
    competition: dict  # {"id", "name", "slug"}
    home: TeamState
    away: TeamState
    status: Literal["scheduled", "live", "half_time", "finished"]
    status_label: str
    minute: int
    kickoff: str  # ISO 8601
    events: list[EventState]
    url: str


class SubscribeFrame(Request):
    type: Literal["scores.subscribe", "scores.unsubscribe"]
    matches: Literal["all"] | list[int]


class StandingsRequest(Request):
    type: Literal["scores.standings"]
    competition: int


CLIENT_FRAMES = (SubscribeFrame, StandingsRequest)


class SnapshotFrame(Reply):
    type: Literal["scores.snapshot"]
    matches: list[MatchState]
    missing: NotRequired[list[int]]


class MatchFrame(TypedDict):
    type: Literal["scores.match"]
    match: MatchState


class TableTeam(TypedDict):
    id: int
    name: str
    short: str
    url: str


class TableRow(TypedDict):
    rank: int
    team: TableTeam
    played: int
    won: int
    drawn: int
    lost: int
    goals_for: int
    goals_against: int
    goal_difference: int
    points: int
    live: bool  # a live match of this team is counted in these numbers


class StandingsFrame(Reply):
    type: Literal["scores.standings"]
    competition: dict  # {"id", "name", "slug"}
    rev: int  # grows with every change to the competition's results
    final: list[TableRow]  # finished matches only
    live: list[TableRow]  # finished, and live ones as they stand now
    live_matches: int  # live matches counted in ``live``


def match_frame(state: MatchState) -> MatchFrame:
    return {"type": "scores.match", "match": state}


def read_matches(frame: dict) -> Literal["all"] | list[int]:
    """``"all"`` or a de-duplicated list of positive match ids."""
    value = frame.get("matches")
    if value == "all":
        return "all"
    if not isinstance(value, list) or not value:
        raise ProtocolError(
            ErrorCode.INVALID, _('"matches" must be "all" or a non-empty list of ids.')
        )
    if len(value) > MAX_MATCHES:
        raise ProtocolError(
            ErrorCode.TOO_BIG,
            _('"matches" holds more than %(n)d ids.') % {"n": MAX_MATCHES},
        )
    if not all(type(v) is int and 0 < v < 2**53 for v in value):
        raise ProtocolError(
            ErrorCode.INVALID, _('"matches" ids must be positive ints.')
        )
    return list(dict.fromkeys(value))


def read_competition(frame: dict) -> int:
    value = frame.get("competition")
    if type(value) is not int or not 0 < value < 2**53:
        raise ProtocolError(
            ErrorCode.INVALID, _('"competition" must be a competition id.')
        )
    return value
