"""The quotes pages, the polling twin's JSON endpoint, history and watchlist."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from realtime.demo import seed_instruments
from realtime.models import Instrument, PricePoint, Quote, Watchlist

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    seed_instruments()
    aapl = Instrument.objects.get(symbol="AAPL")
    at = timezone.now()
    Quote.objects.create(
        instrument=aapl,
        last=230.0,
        open=228.0,
        high=231.0,
        low=227.0,
        prev_close=227.5,
        volume=1200,
        updated_at=at,
    )
    PricePoint.objects.bulk_create(
        PricePoint(instrument=aapl, price=220 + n, at=at - timedelta(seconds=10 - n))
        for n in range(10)
    )
    return at


def test_latest_quotes_carry_the_server_production_time(client, market):
    """Each quote has the instant the feed produced it, and polls are never cached."""
    response = client.get("/quotes/api/latest/?symbols=aapl,600519.SS,NOPE")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Timing-Allow-Origin"] == "*"
    body = response.json()
    quotes = {q["symbol"]: q for q in body["quotes"]}
    assert set(quotes) == {"AAPL", "600519.SS"}
    assert quotes["AAPL"]["last"] == 230.0
    assert quotes["AAPL"]["ts"] == round(market.timestamp() * 1000)
    assert quotes["600519.SS"]["ts"] is None  # not ticked yet: reference price
    assert "贵州茅台" not in response.content.decode()  # names live elsewhere
    assert body["server_time"] >= quotes["AAPL"]["ts"]


def test_without_symbols_every_active_instrument_is_listed(client, market):
    """The default answer covers the whole active market."""
    Instrument.objects.filter(symbol="NVDA").update(active=False)
    symbols = [q["symbol"] for q in client.get("/quotes/api/latest/").json()["quotes"]]
    assert "AAPL" in symbols and "VFIAX" in symbols and "NVDA" not in symbols


def test_history_gives_the_chart_oldest_first(client, market):
    """The chart endpoint returns [time, price] pairs, limited and ordered."""
    body = client.get("/quotes/api/history/aapl/?limit=3").json()
    assert body["symbol"] == "AAPL"
    assert [p[1] for p in body["points"]] == [227, 228, 229]
    assert client.get("/quotes/api/history/NOPE/").status_code == 404
    assert client.get("/quotes/api/history/AAPL/?limit=x").status_code == 400


def test_the_watchlist_is_kept_for_logged_in_users(client, market, make_user):
    """A visitor must log in; a user's list is saved in order and validated."""
    url = reverse("quotes-watchlist")
    assert client.get(url).status_code == 401
    ann = make_user("ann")
    client.force_login(ann)
    response = client.post(
        url, json.dumps({"symbols": ["msft", "600519.SS"]}), "application/json"
    )
    assert response.json() == {"symbols": ["MSFT", "600519.SS"]}
    bad = client.post(url, json.dumps({"symbols": ["NOPE"]}), "application/json")
    assert bad.status_code == 400 and "NOPE" in bad.json()["error"]
    assert client.post(url, "{", "application/json").status_code == 400
    assert Watchlist.objects.filter(user=ann).count() == 2
    page = client.get(reverse("quotes"))
    assert page.context["watchlist"] == ["MSFT", "600519.SS"]


def test_the_three_quotes_pages_render(client, market):
    """Board, polling twin and comparison pages load, with the instrument list."""
    for name in ("quotes", "quotes-polling", "quotes-compare"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "600519.SS" in response.content.decode()
        names = [i["name"] for i in response.context["instruments"]]
        assert "贵州茅台" in names


def test_the_demo_seeder_is_idempotent():
    """Seeding twice keeps one row per instrument."""
    first = seed_instruments()
    assert seed_instruments() == first.replace("7 new", "0 new")
    assert Instrument.objects.filter(kind="fund").count() == 2
