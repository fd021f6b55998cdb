"""The match simulator: plays the simulated matches in accelerated time.

One match minute lasts ``DUPLEX_MATCH_MINUTE_SECONDS`` (1 s by default), so a
demo match takes under two minutes; a finished one kicks off again after a
pause, so the scores page is always alive. It writes through the models like
the admin does, and their ``post_save`` receivers publish the changes.
"""

import asyncio
import os
import random
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from realtime.models import Match, MatchEvent

MINUTE_SECONDS = float(os.environ.get("DUPLEX_MATCH_MINUTE_SECONDS") or 1.0)
REPLAY_AFTER = 30  # simulated minutes between full-time and the next kick-off
GOAL_CHANCE = 2.6 / 90  # per team per minute: about 2.6 goals a match
CARD_CHANCE = 3.5 / 90
PLAYERS = ["Li", "Wang", "Zhang", "Silva", "Müller", "Smith", "Rossi", "Kim"]

Status = Match.Status
Kind = MatchEvent.Kind


async def run() -> None:
    """Step every simulated match once a minute of match time, forever."""
    rng = random.Random()
    while True:
        await sync_to_async(step_all)(rng)
        await asyncio.sleep(MINUTE_SECONDS)


def step_all(rng: random.Random) -> None:
    for match in Match.objects.filter(simulated=True).select_related("home", "away"):
        step(match, rng)


def step(match: Match, rng: random.Random) -> None:
    """Advance one simulated minute: status, minute, events and score."""
    with transaction.atomic():
        if match.status == Status.FINISHED:
            pause = timedelta(seconds=REPLAY_AFTER * MINUTE_SECONDS)
            if timezone.now() - match.updated_at >= pause:
                _restart(match)
            return
        if match.status == Status.SCHEDULED:
            match.status, match.minute = Status.LIVE, 1
            _event(match, Kind.KICK_OFF, 0)
        elif match.status == Status.HALF_TIME:
            match.status, match.minute = Status.LIVE, 46
        else:
            match.minute += 1
            _play_minute(match, rng)
        if match.status == Status.LIVE and match.minute == 45:
            match.status = Status.HALF_TIME
            _event(match, Kind.HALF_TIME, 45)
        elif match.minute >= 90:
            match.status = Status.FINISHED
            _event(match, Kind.FULL_TIME, 90)
        match.save()


def _play_minute(match: Match, rng: random.Random) -> None:
    for team, side in ((match.home, "home"), (match.away, "away")):
        if rng.random() < GOAL_CHANCE:
            setattr(match, f"{side}_score", getattr(match, f"{side}_score") + 1)
            _event(match, Kind.GOAL, match.minute, team, rng.choice(PLAYERS))
        elif rng.random() < CARD_CHANCE:
            card = rng.choice(["yellow", "yellow", "yellow", "red"])
            _event(match, Kind.CARD, match.minute, team, rng.choice(PLAYERS), card)
    if match.minute in (60, 75):
        team = rng.choice([match.home, match.away])
        _event(match, Kind.SUBSTITUTION, match.minute, team, rng.choice(PLAYERS))


def _event(match, kind, minute, team=None, player="", detail="") -> None:
    MatchEvent.objects.create(
        match=match, kind=kind, minute=minute, team=team, player=player, detail=detail
    )


def _restart(match: Match) -> None:
    match.events.all().delete()
    match.status = Status.SCHEDULED
    match.minute = match.home_score = match.away_score = 0
    match.kickoff = timezone.now() + timedelta(seconds=MINUTE_SECONDS)
    match.save()
