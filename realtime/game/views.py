"""Gomoku pages: the lobby, a board, a replay, a player's record, the leaderboard."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from realtime.game import ratings, rules, service
from realtime.models import Game


def lobby(request):
    service.settle_expired()
    context = {"record": None}
    if request.user.is_authenticated:
        context["record"] = service.record(request.user)
        context["rating"] = ratings.rating_of(request.user)
    return render(request, "realtime/game/lobby.html", context)


def board(request, game_id: int):
    game = get_object_or_404(Game.objects.select_related("black", "white"), pk=game_id)
    context = {
        "game": game,
        "size": rules.SIZE,
        "cells": range(rules.SIZE * rules.SIZE),
        "page_data": {
            "game": game.pk,
            "user": request.user.pk if request.user.is_authenticated else None,
            "size": rules.SIZE,
        },
    }
    return render(request, "realtime/game/board.html", context)


def replay(request, game_id: int):
    game = get_object_or_404(Game.objects.select_related("black", "white"), pk=game_id)
    if not game.is_over:
        raise Http404("The game is not over yet.")
    moves = [
        [move.x, move.y, move.color]
        for move in game.moves.order_by("seq").only("x", "y", "color")
    ]
    context = {
        "game": game,
        "size": rules.SIZE,
        "cells": range(rules.SIZE * rules.SIZE),
        "replay": {"moves": moves, "line": game.winning_line, "size": rules.SIZE},
    }
    return render(request, "realtime/game/replay.html", context)


def record(request, username: str):
    user = get_object_or_404(get_user_model(), username=username)
    games = (
        Game.objects.filter(Q(black=user) | Q(white=user))
        .filter(status__in=[Game.Status.FINISHED, Game.Status.ABORTED])
        .select_related("black", "white", "winner")
        .order_by("-finished_at")[:100]
    )
    context = {
        "player": user,
        "record": service.record(user),
        "rating": ratings.rating_of(user),
        "games": games,
    }
    return render(request, "realtime/game/record.html", context)


def leaderboard(request):
    """The best rated players (Elo), with their games, wins, losses and draws."""
    context = {"rows": ratings.leaderboard(), "start": ratings.START}
    return render(request, "realtime/game/leaderboard.html", context)
