"""A competition's league table, computed from its matches' results.

Three points for a win, one for a draw. Teams level on points are ordered by:

1. goal difference;
2. goals scored;
3. head-to-head among the teams still level: points, then goal difference,
   then goals scored, in the matches between those teams only;
4. name (so the order is stable; such teams still get distinct positions).

Two tables come from the same matches: ``final`` counts finished matches only;
``live`` also counts live and half-time matches as they stand now, and marks
the teams playing one (``live: true``), as a live-standings view does. Every
team with a match in the competition has a row, with zeros before it plays.
"""

from dataclasses import dataclass
from typing import NamedTuple

LIVE_STATUSES = ("live", "half_time")


class Result(NamedTuple):
    home: int
    away: int
    home_goals: int
    away_goals: int
    status: str


@dataclass
class Line:
    team: int
    played: int = 0
    won: int = 0
    drawn: int = 0
    lost: int = 0
    goals_for: int = 0
    goals_against: int = 0
    live: bool = False

    @property
    def points(self) -> int:
        return 3 * self.won + self.drawn

    @property
    def goal_difference(self) -> int:
        return self.goals_for - self.goals_against

    def add(self, scored: int, conceded: int) -> None:
        self.played += 1
        self.goals_for += scored
        self.goals_against += conceded
        if scored > conceded:
            self.won += 1
        elif scored == conceded:
            self.drawn += 1
        else:
            self.lost += 1

    def key(self) -> tuple[int, int, int]:
        return (self.points, self.goal_difference, self.goals_for)


def counted(result: Result, *, with_live: bool) -> bool:
    return result.status == "finished" or (with_live and result.status in LIVE_STATUSES)


def tally(team_ids, results: list[Result], *, with_live: bool) -> dict[int, Line]:
    lines = {team: Line(team) for team in team_ids}
    for r in results:
        for team in (r.home, r.away):
            lines.setdefault(team, Line(team))
        if not counted(r, with_live=with_live):
            continue
        lines[r.home].add(r.home_goals, r.away_goals)
        lines[r.away].add(r.away_goals, r.home_goals)
        if r.status in LIVE_STATUSES:
            lines[r.home].live = lines[r.away].live = True
    return lines


def order(lines: dict[int, Line], results, names: dict[int, str], *, with_live: bool):
    """The lines, best first, by the tie-breaks in this module's docstring."""
    level: dict[tuple, list[int]] = {}
    for line in lines.values():
        level.setdefault(line.key(), []).append(line.team)
    ranked: list[Line] = []
    for key in sorted(level, reverse=True):
        group = level[key]
        if len(group) > 1:
            among = [r for r in results if r.home in group and r.away in group]
            mini = tally(group, among, with_live=with_live)
            group = sorted(
                group,
                key=lambda t: (*(-v for v in mini[t].key()), names.get(t, "")),
            )
        ranked.extend(lines[t] for t in group)
    return ranked


def table(team_ids, results: list[Result], names: dict[int, str], *, with_live):
    """The ordered lines of one table (``with_live``: count live matches too)."""
    lines = tally(team_ids, results, with_live=with_live)
    return order(lines, results, names, with_live=with_live)
