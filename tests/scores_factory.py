"""Competitions, teams and matches for the scores and notifications tests."""

from django.utils import timezone

from realtime.models import Competition, Match, Team


def make_match(home="Lions", away="Harbour", **fields) -> Match:
    league, _ = Competition.objects.get_or_create(
        slug="test-league", defaults={"name": "Test League 测试联赛"}
    )
    teams = [
        Team.objects.get_or_create(
            slug=name.lower(), defaults={"name": name, "short_name": name[:3]}
        )[0]
        for name in (home, away)
    ]
    fields.setdefault("kickoff", timezone.now())
    fields.setdefault("competition", league)
    return Match.objects.create(home=teams[0], away=teams[1], **fields)


def change(match_id: int, **fields) -> Match:
    """Load and save a match the way the admin does."""
    match = Match.objects.get(pk=match_id)
    for name, value in fields.items():
        setattr(match, name, value)
    match.save()
    return match
