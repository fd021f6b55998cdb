"""Match states on the wire, and publishing them after every committed change.

``post_save`` on ``Match`` and ``MatchEvent`` covers every writer (the admin's
forms, the simulator, code): on commit, the match's full state is read back
and published, conflated per match id, to ``scores`` and
``scores.match.<id>``. Moments other features care about (kick-off, a goal,
full-time) go out as the ``match_moments`` signal, also after commit.

A save that changes a result (status, score, competition), a new match and a
deleted one also bump the competition's ``table_rev`` in the same transaction
and, on commit, publish its standings to ``scores.table.<id>``.
"""

from datetime import datetime, time, timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from django.utils import timezone

from realtime.core import fanout
from realtime.models import Competition, Match, MatchEvent
from realtime.scores import standings
from realtime.scores.protocol import (
    TOPIC_ALL,
    MatchState,
    StandingsFrame,
    TableRow,
    match_frame,
    match_topic,
    table_topic,
)

LIVE = (Match.Status.LIVE, Match.Status.HALF_TIME)

# After commit. kwargs: match_id: int, moments: list of "kick_off", "goal",
# "full_time".
match_moments = Signal()


def match_state(match: Match, events) -> MatchState:
    def team(t, score):
        return {"id": t.pk, "name": t.name, "short": t.short_name, "score": score}

    return {
        "id": match.pk,
        "rev": match.rev,
        "competition": {
            "id": match.competition_id,
            "name": match.competition.name,
            "slug": match.competition.slug,
        },
        "home": team(match.home, match.home_score),
        "away": team(match.away, match.away_score),
        "status": match.status,
        "status_label": str(match.get_status_display()),
        "minute": match.minute,
        "kickoff": match.kickoff.isoformat(),
        "events": [
            {
                "id": e.pk,
                "kind": e.kind,
                "minute": e.minute,
                "team": e.team_id,
                "player": e.player,
                "detail": e.detail,
            }
            for e in events
        ],
        "url": match.get_absolute_url(),
    }


def _matches():
    return Match.objects.select_related("competition", "home", "away").prefetch_related(
        "events"
    )


def states(matches) -> list[MatchState]:
    return [match_state(m, m.events.all()) for m in matches]


def todays_matches():
    """Today's matches (server time zone) and any match still live."""
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    today = Q(kickoff__gte=start, kickoff__lt=start + timedelta(days=1))
    return _matches().filter(today | Q(status__in=LIVE))


def matches_by_id(ids) -> list[Match]:
    return list(_matches().filter(pk__in=ids))


def matches_of_team(team_id: int):
    return _matches().filter(Q(home=team_id) | Q(away=team_id)).order_by("-kickoff")


def publish_match(match_id: int) -> None:
    """Publish the committed state of one match to everyone watching it."""
    found = matches_by_id([match_id])
    if not found:
        return
    frame = dict(match_frame(states(found)[0]))
    key = f"match.{match_id}"
    fanout.publish(TOPIC_ALL, frame, key=key)
    fanout.publish(match_topic(match_id), frame, key=key)


def _row(rank: int, line: standings.Line, team) -> TableRow:
    return {
        "rank": rank,
        "team": {
            "id": team.pk,
            "name": team.name,
            "short": team.short_name,
            "url": team.get_absolute_url(),
        },
        "played": line.played,
        "won": line.won,
        "drawn": line.drawn,
        "lost": line.lost,
        "goals_for": line.goals_for,
        "goals_against": line.goals_against,
        "goal_difference": line.goal_difference,
        "points": line.points,
        "live": line.live,
    }


def standings_frame(competition_id: int) -> StandingsFrame | None:
    """The competition's two tables (``standings``), or None if it is gone."""
    # The rev before the matches: the rows are never older than the rev says.
    competition = Competition.objects.filter(pk=competition_id).first()
    if competition is None:
        return None
    rows = Match.objects.filter(competition=competition_id).select_related(
        "home", "away"
    )
    teams, results = {}, []
    for m in rows:
        teams[m.home_id], teams[m.away_id] = m.home, m.away
        results.append(
            standings.Result(m.home_id, m.away_id, m.home_score, m.away_score, m.status)
        )
    names = {pk: t.name for pk, t in teams.items()}

    def ranked(with_live: bool) -> list[TableRow]:
        lines = standings.table(teams, results, names, with_live=with_live)
        return [_row(i, line, teams[line.team]) for i, line in enumerate(lines, 1)]

    return {
        "type": "scores.standings",
        "competition": {
            "id": competition.pk,
            "name": competition.name,
            "slug": competition.slug,
        },
        "rev": competition.table_rev,
        "final": ranked(False),
        "live": ranked(True),
        "live_matches": sum(r.status in LIVE for r in results),
    }


def publish_standings(competition_id: int) -> None:
    frame = standings_frame(competition_id)
    if frame is not None:
        key = f"table.{competition_id}"
        fanout.publish(table_topic(competition_id), dict(frame), key=key)


def _results_changed(competition_ids) -> None:
    """In the writer's transaction: bump the rev; on commit, publish."""
    for competition_id in {c for c in competition_ids if c}:
        Competition.objects.filter(pk=competition_id).update(
            table_rev=F("table_rev") + 1
        )
        transaction.on_commit(partial(publish_standings, competition_id))


def moments(before: tuple, match: Match) -> list[str]:
    """What happened between the loaded row ``before`` and the saved ``match``."""
    status, home, away = before
    found = []
    if status == Match.Status.SCHEDULED and match.status in LIVE:
        found.append("kick_off")
    if match.home_score > home or match.away_score > away:
        found.append("goal")
    if status != Match.Status.FINISHED and match.status == Match.Status.FINISHED:
        found.append("full_time")
    return found


def _send_moments(match_id: int, found: list[str]) -> None:
    match_moments.send(sender=Match, match_id=match_id, moments=found)


@receiver(post_save, sender=Match, dispatch_uid="scoreboard.match_saved")
def match_saved(sender, instance: Match, created: bool, **kwargs):
    transaction.on_commit(partial(publish_match, instance.pk))
    before = getattr(instance, "_loaded", None)
    found = moments(before, instance) if before and not created else []
    was_in = getattr(instance, "_loaded_competition", None)
    result = (instance.status, instance.home_score, instance.away_score)
    if created or before != result or was_in != instance.competition_id:
        _results_changed([was_in, instance.competition_id])
    instance.remember_loaded()  # a second save compares with this one
    if found:
        transaction.on_commit(partial(_send_moments, instance.pk, found))


@receiver(post_delete, sender=Match, dispatch_uid="scoreboard.match_deleted")
def match_deleted(sender, instance: Match, **kwargs):
    _results_changed([instance.competition_id])


@receiver(post_save, sender=MatchEvent, dispatch_uid="scoreboard.event_saved")
@receiver(post_delete, sender=MatchEvent, dispatch_uid="scoreboard.event_deleted")
def event_changed(sender, instance: MatchEvent, **kwargs):
    transaction.on_commit(partial(publish_match, instance.match_id))
