"""The live scores pages: today's matches and the teams, one match's timeline,
a team, a competition's standings."""

from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from realtime.models import Competition, Match, MatchEvent, Team, TeamFollow
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
    context = {"groups": ordered, **_teams(request)}
    return _render(request, "realtime/scores/list.html", context)


MAX_TEAMS = 200  # teams listed on /scores/; a search finds the others


def _teams(request) -> dict:
    """The teams panel: every team (or those matching ``?team=``), each with
    whether the visitor follows it."""
    query = request.GET.get("team", "").strip()[:100]
    teams = Team.objects.all()
    if query:
        teams = teams.filter(Q(name__icontains=query) | Q(short_name__icontains=query))
    teams = list(teams[:MAX_TEAMS])
    followed = set()
    if request.user.is_authenticated:
        followed = set(
            TeamFollow.objects.filter(user=request.user).values_list(
                "team_id", flat=True
            )
        )
    for t in teams:
        t.followed = t.pk in followed
        t.label_id = f"team-name-{t.pk}"  # names the follow button's team
    return {"teams": teams, "team_query": query}


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


def standings(request, slug: str):
    """A competition's league table, live."""
    competition = get_object_or_404(Competition, slug=slug)
    table = scoreboard.standings_frame(competition.pk)
    return render(
        request,
        "realtime/scores/standings.html",
        {"competition": competition, "table": table},
    )
