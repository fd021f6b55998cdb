"""The live scores pages: today's matches, one match's timeline, a team."""

from django.shortcuts import get_object_or_404, render

from realtime.models import Match, Team, TeamFollow
from realtime.scores import service as scoreboard

ORDER = {"live": 0, "half_time": 0, "scheduled": 1, "finished": 2}


def scores(request):
    """Today's matches by competition: live first, then upcoming, then finished."""
    groups: dict[int, dict] = {}
    for state in scoreboard.states(scoreboard.todays_matches()):
        group = groups.setdefault(
            state["competition"]["id"],
            {"competition": state["competition"], "matches": []},
        )
        group["matches"].append(state)
    for group in groups.values():
        group["matches"].sort(key=lambda s: (ORDER[s["status"]], s["kickoff"]))
    ordered = sorted(groups.values(), key=lambda g: g["competition"]["name"])
    return render(request, "realtime/scores/list.html", {"groups": ordered})


def match(request, pk: int):
    """One match and its event timeline."""
    found = scoreboard.matches_by_id([pk])
    if not found:
        get_object_or_404(Match, pk=pk)
    state = scoreboard.states(found)[0]
    return render(request, "realtime/scores/match.html", {"match": state})


def team(request, pk: int):
    """A team, its matches and a follow button."""
    team = get_object_or_404(Team, pk=pk)
    matches = scoreboard.states(scoreboard.matches_of_team(team.pk))
    following = (
        request.user.is_authenticated
        and TeamFollow.objects.filter(user=request.user, team=team).exists()
    )
    context = {"team": team, "matches": matches, "following": following}
    return render(request, "realtime/scores/team.html", context)
