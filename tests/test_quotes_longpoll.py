"""The long-polling endpoint of the compare page: /quotes/api/wait/."""

import asyncio

import pytest
from django.test import AsyncClient
from django.utils import timezone

from realtime.core import fanout
from realtime.quotes import views
from realtime.quotes.protocol import topic
from tests.test_quotes import feed, tick

pytestmark = pytest.mark.django_db(transaction=True)


async def followed(symbol: str) -> None:
    """Until the waiting request follows the symbol's topic on this process' hub."""
    while not fanout.get_hub().local_count(topic(symbol)):  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the hub has no event for a join


async def test_a_newer_stored_quote_is_answered_at_once():
    """A client behind the stored quote gets it without waiting for a tick."""
    await feed()  # the fund 110022 has a stored quote from 5 s ago
    response = await AsyncClient().get("/quotes/api/wait/?symbols=110022&after=0")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    [quote] = response.json()["quotes"]
    assert quote["symbol"] == "110022" and quote["last"] == 3.6


async def test_the_answer_waits_for_the_next_tick_of_a_watched_symbol():
    """Up to date, the request is held until a watched symbol ticks and then
    carries that tick; other symbols' ticks do not answer it."""
    market = await feed()
    now = round(timezone.now().timestamp() * 1000)
    url = f"/quotes/api/wait/?symbols=AAPL,110022&after={now}"
    request = asyncio.ensure_future(AsyncClient().get(url))
    await followed("AAPL")
    await tick(market, "MSFT", 401.5)
    await asyncio.sleep(0.2)
    assert not request.done(), request.result().json()
    await tick(market, "AAPL", 201.25)
    response = await asyncio.wait_for(request, 5)
    [quote] = response.json()["quotes"]
    assert quote["symbol"] == "AAPL" and quote["last"] == 201.25
    assert "type" not in quote  # the shape of /quotes/api/latest/'s quotes
    assert fanout.get_hub().local_count(topic("AAPL")) == 0  # left on answering


async def test_a_full_process_asks_the_client_to_retry(monkeypatch):
    """Past LONG_POLL_WAITING requests held at once, a 503 with Retry-After."""
    await feed()
    monkeypatch.setattr(views, "LONG_POLL_WAITING", 0)
    response = await AsyncClient().get("/quotes/api/wait/?symbols=AAPL")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
