"""Features reacting to each other end to end: chat and quotes drive notifications."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async

from realtime.chat.models import Room
from realtime.models import Instrument, PriceAlert
from realtime.quotes.feed import MarketFeed, MarketTick
from tests.frames import ANY, next_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def notification_stream(ws, user):
    communicator, connected, _ = await ws("/ws/notifications/", user=user)
    assert connected
    await communicator.send_json_to({"type": "notifications.hello", "after": 0})
    assert (await communicator.receive_json_from())["type"] == "notifications.state"
    return communicator


async def test_a_mention_in_a_real_chat_room_reaches_the_named_users_bell(
    ws, make_user
):
    """bob writes "@ann" in the lobby over the chat socket; ann's stream gets it."""
    ann, bob = [await sync_to_async(make_user)(n) for n in ("ann", "bob")]
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby · 大厅")
    bell = await notification_stream(ws, ann)
    room, connected, _ = await ws("/ws/chat/lobby/", user=bob)
    assert connected
    await room.send_json_to({"type": "chat.join", "after": 0})
    await room.send_json_to({"type": "chat.send", "text": "look here @ann <b>!</b>"})
    note = (await next_frame(bell, "notifications.new", skip=ANY))["notification"]
    assert note["kind"] == "mention"
    assert note["url"] == "/chat/lobby/"
    assert "look here @ann <b>!</b>" in note["body"]
    await bell.disconnect()
    await room.disconnect()


class ListedTicks:
    """A market source (the documented feed interface) that replays given prices."""

    def __init__(self, symbol, prices):
        self.symbol, self.prices = symbol, prices

    async def ticks(self):
        for price in self.prices:
            yield MarketTick(self.symbol, price, 10, datetime.now(UTC))


async def test_market_ticks_crossing_an_alert_notify_once_per_crossing(ws, make_user):
    """The market feed's ticks drive a price alert: up through 102, back, up again."""
    ann = await sync_to_async(make_user)("ann")
    await sync_to_async(Instrument.objects.create)(
        symbol="ACME", name="Acme 顶点", kind="stock", currency="USD",
        reference_price=100, volatility=1,
    )  # fmt: skip
    await sync_to_async(PriceAlert.objects.create)(
        user=ann, symbol="ACME", direction="above", level="102"
    )
    bell = await notification_stream(ws, ann)
    await MarketFeed(ListedTicks("ACME", [100, 101, 103, 104, 101, 102.5])).run()
    first, second = (
        (await next_frame(bell, "notifications.new", skip=ANY))["notification"],
        (await next_frame(bell, "notifications.new", skip=ANY))["notification"],
    )
    assert [first["kind"], second["kind"]] == ["price", "price"]
    assert "103" in first["title"] and "102.5" in second["title"]
    assert await bell.receive_nothing(0.3)
    await bell.disconnect()
