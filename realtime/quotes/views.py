"""Quotes pages, the polling twin's JSON endpoint, the chart history, the watchlist."""

import json
import time

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from realtime.models import Instrument, PriceAlert, Watchlist
from realtime.quotes import history as candle_history
from realtime.quotes import service as quotes
from realtime.quotes.protocol import MAX_SYMBOL_LENGTH, max_subscriptions

HISTORY_DEFAULT = 300
# The same compact JSON as the socket's frames, so the comparison is fair.
COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


def _board_context(request: HttpRequest) -> dict:
    watchlist = []
    if request.user.is_authenticated:
        watchlist = list(
            Watchlist.objects.filter(
                user=request.user, instrument__active=True
            ).values_list("instrument__symbol", flat=True)
        )
    return {
        "alert_directions": PriceAlert.Direction.choices,
        "settings_url": reverse("notifications-settings"),
        "instruments": quotes.active_instruments(),
        "watchlist": watchlist,
        "quotes_config": {
            "maxSubscriptions": max_subscriptions(),
            "loggedIn": request.user.is_authenticated,
            "savedWatchlist": bool(watchlist),
        },
    }


def board(request):
    return render(request, "realtime/quotes/board.html", _board_context(request))


def polling(request):
    return render(request, "realtime/quotes/polling.html", _board_context(request))


def compare(request):
    return render(request, "realtime/quotes/compare.html", _board_context(request))


def _symbols_param(request) -> list[str] | None:
    raw = request.GET.get("symbols")
    if not raw:
        return None
    symbols = [s.strip().upper() for s in raw.split(",") if s.strip()]
    return [s for s in symbols if len(s) <= MAX_SYMBOL_LENGTH][:100]


def _no_store(response: JsonResponse) -> JsonResponse:
    # Every poll must reach the server (a cached answer would hide the cost
    # being measured), and the Resource Timing API only reports transferSize
    # of a cross-origin response that allows it, e.g. behind a CDN host.
    response["Cache-Control"] = "no-store"
    response["Timing-Allow-Origin"] = "*"
    return response


@require_GET
def latest(request):
    """The latest quote of each requested symbol (all active ones by default)."""
    data = {
        "quotes": quotes.latest_quotes(_symbols_param(request)),
        "server_time": round(time.time() * 1000),
    }
    return _no_store(JsonResponse(data, json_dumps_params=COMPACT))


@require_GET
def history(request, symbol: str):
    """Chart points ``[[epoch ms, price], ...]``, oldest first."""
    try:
        limit = min(max(int(request.GET.get("limit", HISTORY_DEFAULT)), 1), 2000)
    except ValueError:
        return JsonResponse({"error": "limit must be an integer"}, status=400)
    points = quotes.history(symbol.upper(), limit)
    if points is None:
        return JsonResponse({"error": f"Unknown symbol {symbol}."}, status=404)
    body = {"symbol": symbol.upper(), "points": points}
    return _no_store(JsonResponse(body, json_dumps_params=COMPACT))


@require_GET
def candles(request, symbol: str):
    """OHLC candles of ``?range=`` 1m, 1h or 1d, rolled up from the chart points."""
    range_name = request.GET.get("range", "1m")
    if range_name not in candle_history.RANGES:
        ranges = ", ".join(candle_history.RANGES)
        return JsonResponse({"error": f"range is one of {ranges}."}, status=400)
    rows = candle_history.candles(symbol.upper(), range_name, timezone.now())
    if rows is None:
        return JsonResponse({"error": f"Unknown symbol {symbol}."}, status=404)
    body = {
        "symbol": symbol.upper(),
        "range": range_name,
        "seconds": candle_history.RANGES[range_name].seconds,
        "candles": rows,
    }
    return _no_store(JsonResponse(body, json_dumps_params=COMPACT))


@never_cache
@require_http_methods(["GET", "POST"])
def watchlist(request):
    """GET the user's watched symbols; POST ``{"symbols": [...]}`` replaces them."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to keep a watchlist."}, status=401)
    if request.method == "POST":
        try:
            symbols = json.loads(request.body)["symbols"]
            if not isinstance(symbols, list) or not all(
                isinstance(s, str) and "\x00" not in s for s in symbols
            ):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JsonResponse(
                {"error": 'Send {"symbols": ["AAPL", ...]}.'}, status=400
            )
        symbols = list(dict.fromkeys(s.strip().upper() for s in symbols))
        if len(symbols) > max_subscriptions():
            return JsonResponse(
                {"error": f"At most {max_subscriptions()} symbols."}, status=400
            )
        found = {
            i.symbol: i
            for i in Instrument.objects.filter(symbol__in=symbols, active=True)
        }
        unknown = [s for s in symbols if s not in found]
        if unknown:
            return JsonResponse(
                {"error": f"Unknown symbol(s): {', '.join(unknown)}."}, status=400
            )
        with transaction.atomic():
            Watchlist.objects.filter(user=request.user).delete()
            Watchlist.objects.bulk_create(
                Watchlist(user=request.user, instrument=found[s], position=n)
                for n, s in enumerate(symbols)
            )
    symbols = list(
        Watchlist.objects.filter(user=request.user).values_list(
            "instrument__symbol", flat=True
        )
    )
    return JsonResponse({"symbols": symbols})
