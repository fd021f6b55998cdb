"""The live scores pages: today's matches, one match's timeline, a team."""

from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from realtime.models import Match, MatchEvent, Team, TeamFollow
from realtime.scores import service as scoreboard

# The list's order, kept by scores.js as matches change: live on top.
ORDER = {"live": 0, "half_time": 0, "scheduled": 1, "finished": 2}


def _event_labels() -> dict[str, str]:
    return {kind: capfirst(label) for kind, label in MatchEvent.Kind.choices}


def _for_page(states):
    """The wire states, with the kick-off as a datetime for the template's
    fallback text (scores.js rewrites it in the viewer's own time zone) and
    each event's label in the reader's language."""
    labels = _event_labels()
    for state in states:
        state["kickoff_at"] = parse_datetime(state["kickoff"])
        for event in state["events"]:
            event["label"] = labels.get(event["kind"], event["kind"])
    return states


def _render(request, template: str, context: dict):
    """Every scores page carries the labels of statuses and events in the
    reader's language: live updates show these, not the socket's (server
    language) labels."""
    context["labels"] = {
        "status": dict(Match.Status.choices),
        "event": _event_labels(),
    }
    return render(request, template, context)


def scores(request):
    """Today's matches by competition: live first, then upcoming, then finished;
    competitions with a live match first."""
    groups: dict[int, dict] = {}
    for state in _for_page(scoreboard.states(scoreboard.todays_matches())):
        group = groups.setdefault(
            state["competition"]["id"],
            {"competition": state["competition"], "matches": []},
        )
        group["matches"].append(state)
    for group in groups.values():
        group["matches"].sort(key=lambda s: (ORDER[s["status"]], s["kickoff"]))
    ordered = sorted(
        groups.values(),
        key=lambda g: (ORDER[g["matches"][0]["status"]] > 0, g["competition"]["name"]),
    )
    return _render(request, "realtime/scores/list.html", {"groups": ordered})


def match(request, pk: int):
    """One match and its event timeline."""
    found = scoreboard.matches_by_id([pk])
    if not found:
        get_object_or_404(Match, pk=pk)
    state = _for_page(scoreboard.states(found))[0]
    return _render(request, "realtime/scores/match.html", {"match": state})


def team(request, pk: int):
    """A team, its matches and a follow button."""
    team = get_object_or_404(Team, pk=pk)
    matches = _for_page(scoreboard.states(scoreboard.matches_of_team(team.pk)))
    following = (
        request.user.is_authenticated
        and TeamFollow.objects.filter(user=request.user, team=team).exists()
    )
    context = {"team": team, "matches": matches, "following": following}
    return _render(request, "realtime/scores/team.html", context)
