"""Quotes pages, the polling twin's JSON endpoint, the chart history, the watchlist."""

import asyncio
import json
import time

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from realtime.core import fanout
from realtime.models import Instrument, PriceAlert, Watchlist
from realtime.quotes import history as candle_history
from realtime.quotes import service as quotes
from realtime.quotes.protocol import MAX_SYMBOL_LENGTH, max_subscriptions, topic

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


# The compare page's table: one row per figure, one column per way of feeding
# a board (quotes-compare.js fills the cells "<side>-<row>").
FIGURE_SIDES = ["poll", "longpoll", "sse", "ws"]


def _figure_rows() -> list[tuple[str, str]]:
    return [
        ("bytes", _("Bytes received")),
        ("per-update", _("Bytes per update")),
        ("requests", _("HTTP requests")),
        ("requests-per-update", _("Requests per update")),
        ("messages", _("Responses, events or frames received")),
        ("updates", _("Price changes shown")),
        ("latency", _("Delay, mean (ms)")),
        ("p95", _("Delay, 95th percentile (ms)")),
    ]


def compare(request):
    context = _board_context(request)
    context.update(figure_rows=_figure_rows(), figure_sides=FIGURE_SIDES)
    return render(request, "realtime/quotes/compare.html", context)


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


# Long-polling (the compare page's third board): an answer waits for the next
# tick, at most LONG_POLL_SECONDS (below the 30-60 s at which proxies cut idle
# requests), then gathers the ticks of the same market round for GATHER
# seconds. At most LONG_POLL_WAITING requests wait at once in a process.
LONG_POLL_SECONDS = 25.0
LONG_POLL_GATHER = 0.05
LONG_POLL_WAITING = 1000
_waiting: set["TickWaiter"] = set()


class TickWaiter:
    """Joins the hub like a socket's outbox: the newest tick per symbol."""

    on_control = None

    def __init__(self):
        self.ticks: dict[str, dict] = {}
        self.arrived = asyncio.Event()

    def deliver(self, frame) -> None:
        tick = json.loads(frame.text)
        tick.pop("type", None)
        self.ticks[tick["symbol"]] = tick
        self.arrived.set()


def _after_param(request) -> int:
    try:
        return int(request.GET.get("after", 0))
    except ValueError:
        return 0


@require_GET
async def wait(request):
    """Long-poll: the watched symbols' quotes newer than ``after`` (epoch ms),
    at once if there are some, else as soon as the next tick comes."""
    symbols = (_symbols_param(request) or [])[: max_subscriptions()]
    if len(_waiting) >= LONG_POLL_WAITING:
        busy = JsonResponse({"error": "Too many waiting; retry."}, status=503)
        busy["Retry-After"] = "1"
        return _no_store(busy)
    waiter, hub = TickWaiter(), fanout.get_hub()
    topics = [topic(s) for s in await sync_to_async(quotes.active_symbols)(symbols)]
    _waiting.add(waiter)
    try:
        # Follow before reading, as the socket does: no tick falls in between.
        for name in topics:
            await hub.join(name, waiter)
        latest = await sync_to_async(quotes.latest_quotes)(
            [name.removeprefix("quotes.") for name in topics]
        )
        after = _after_param(request)
        newer = {q["symbol"]: q for q in latest if (q["ts"] or 0) > after}
        if not newer and topics:
            try:
                await asyncio.wait_for(waiter.arrived.wait(), LONG_POLL_SECONDS)
                await asyncio.sleep(LONG_POLL_GATHER)
            except TimeoutError:
                pass
        for symbol, tick in waiter.ticks.items():
            if tick["ts"] > (newer.get(symbol, {}).get("ts") or 0):
                newer[symbol] = tick
    finally:
        _waiting.discard(waiter)
        await hub.leave_all(waiter, topics)
    data = {"quotes": list(newer.values()), "server_time": round(time.time() * 1000)}
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
