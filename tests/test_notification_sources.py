"""Each source of notifications: team moments, price crossings, chat messages.

Chat and quotes live in other features: these tests send their signals
exactly as those features do (``await signal.asend(sender=None, ...)``).
"""

import pytest
from asgiref.sync import sync_to_async
from django.utils import translation

from realtime.core.presence import get_presence
from realtime.models import Notification, PriceAlert, RoomFollow, TeamFollow, UserFollow
from realtime.signals import message_posted, price_ticked
from tests.frames import next_frame
from tests.scores_factory import change, make_match

pytestmark = pytest.mark.django_db(transaction=True)


async def stream(ws, user):
    communicator, connected, _ = await ws("/ws/notifications/", user=user)
    assert connected
    await communicator.send_json_to({"type": "notifications.hello", "after": 0})
    assert (await communicator.receive_json_from())["type"] == "notifications.state"
    return communicator


async def next_notification(communicator):
    """The very next frame is a notification: its ``notification``."""
    return (await next_frame(communicator, "notifications.new", skip=()))[
        "notification"
    ]


def titles(user):
    return list(
        Notification.objects.filter(user=user)
        .order_by("seq")
        .values_list("kind", "title")
    )


async def post(room="lobby", public=True, author=None, text="hi", mentions=()):
    await message_posted.asend(
        sender=None,
        message_id=1,
        room_slug=room,
        room_public=public,
        author_id=author.pk,
        author_name=author.username,
        text=text,
        mentions=list(mentions),
    )


async def tick(symbol, price, previous):
    await price_ticked.asend(
        sender=None,
        symbol=symbol,
        price=price,
        previous=previous,
        at="2026-01-01T00:00:00+00:00",
    )


async def alert_stream(ws, make_user, symbol, direction, level):
    """Ann, with one price alert, listening to her notifications."""
    ann = await sync_to_async(make_user)("ann")
    await sync_to_async(PriceAlert.objects.create)(
        user=ann, symbol=symbol, direction=direction, level=level
    )
    return ann, await stream(ws, ann)


async def test_followers_of_a_team_hear_kick_off_goals_and_full_time(ws, make_user):
    """Kick-off, a goal and full-time of a followed team's match notify; others not."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    match = await sync_to_async(make_match)("Lions", "Harbour")
    await sync_to_async(TeamFollow.objects.create)(user=ann, team_id=match.away_id)
    ann_socket, bob_socket = await stream(ws, ann), await stream(ws, bob)

    await sync_to_async(change)(match.pk, status="live", minute=1)
    assert (await next_notification(ann_socket))["kind"] == "kick_off"
    await sync_to_async(change)(match.pk, minute=17, away_score=1)
    goal = await next_notification(ann_socket)
    assert goal["kind"] == "goal"
    assert goal["title"] == "Goal! Lions 0-1 Harbour"
    assert goal["url"] == f"/scores/{match.pk}/"
    await sync_to_async(change)(match.pk, minute=50)  # a minute tick: nothing
    await sync_to_async(change)(match.pk, minute=90, status="finished")
    assert (await next_notification(ann_socket))["kind"] == "full_time"
    assert await ann_socket.receive_nothing(0.3)
    assert await bob_socket.receive_nothing(0.1)
    await ann_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_price_alert_fires_once_per_crossing(ws, make_user):
    """Above 100: fires crossing up, stays quiet above, re-arms below, fires again."""
    ann, communicator = await alert_stream(ws, make_user, "ACME", "above", "100")
    await tick("ACME", 99.5, 99.0)
    await tick("OTHER", 150.0, 149.0)
    assert await communicator.receive_nothing(0.2)
    await tick("ACME", 100.5, 99.5)
    alert = await next_notification(communicator)
    assert (alert["kind"], alert["title"]) == ("price", "ACME rose to 100.5")
    await tick("ACME", 101.0, 100.5)
    await tick("ACME", 102.0, 101.0)
    assert await communicator.receive_nothing(0.2)
    await tick("ACME", 98.0, 102.0)  # back below: re-armed, no notification
    assert await communicator.receive_nothing(0.2)
    await tick("ACME", 100.0, 98.0)
    assert (await next_notification(communicator))["title"] == "ACME rose to 100"
    saved = await sync_to_async(PriceAlert.objects.get)(user=ann)
    assert (saved.fired_count, saved.armed) == (2, False)
    await communicator.disconnect()


async def test_a_price_hovering_at_the_level_fires_once(ws, make_user):
    """Wiggles across 100 fire once; it re-arms only 0.5 % below, at 99.5."""
    ann, communicator = await alert_stream(ws, make_user, "ACME", "above", "100")
    await tick("ACME", 99.9, 99.8)
    await tick("ACME", 100.01, 99.9)
    assert (await next_notification(communicator))["title"] == "ACME rose to 100.01"
    for price in [99.9, 100.02, 99.6, 100.1, 99.51, 100.0]:
        await tick("ACME", price, 100.0)
    assert await communicator.receive_nothing(0.3)
    await tick("ACME", 99.5, 100.0)  # past the margin: re-armed
    await tick("ACME", 100.2, 99.5)
    again = await next_notification(communicator)
    assert again["title"] == "ACME rose to 100.2"
    saved = await sync_to_async(PriceAlert.objects.get)(user=ann)
    assert saved.fired_count == 2
    await communicator.disconnect()


async def test_an_alert_reads_its_level_as_set(ws, make_user):
    """The body says "225.99", the column's four decimals ("225.9900") do not show."""
    _ann, communicator = await alert_stream(ws, make_user, "AAPL", "below", "225.99")
    await tick("AAPL", 226.5, 226.4)
    await tick("AAPL", 225.9, 226.5)
    alert = await next_notification(communicator)
    assert (alert["title"], alert["body"]) == (
        "AAPL fell to 225.9",
        "Your alert: falls to or below 225.99",
    )
    await communicator.disconnect()


async def test_a_new_alert_is_seen_by_the_next_tick(ws, make_user):
    """An alert added while ticks flow fires on the next crossing (below, too)."""
    ann = await sync_to_async(make_user)("ann")
    communicator = await stream(ws, ann)
    await tick("BETA", 10.0, 10.1)  # the alert book is loaded, empty
    await sync_to_async(PriceAlert.objects.create)(
        user=ann, symbol="BETA", direction="below", level="9.5"
    )
    await tick("BETA", 9.4, 10.0)
    assert (await next_notification(communicator))["title"] == "BETA fell to 9.4"
    await communicator.disconnect()


async def test_a_mention_always_notifies_the_named_user(ws, make_user):
    """@ann in any room, private too, reaches Ann even while she is in the room."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    await get_presence().join("chat.secret", "c1", ann.pk, "ann")
    communicator = await stream(ws, ann)
    await post("secret", public=False, author=bob, text="@ann look", mentions=["ann"])
    mention = await next_notification(communicator)
    assert (mention["kind"], mention["title"]) == (
        "mention",
        "bob mentioned you in #secret",
    )
    assert (mention["body"], mention["url"]) == ("@ann look", "/chat/secret/")
    await post("lobby", author=bob, text="@bob me", mentions=["bob", "nobody"])
    assert await sync_to_async(titles)(bob) == []
    await communicator.disconnect()


async def test_room_followers_hear_new_messages_unless_they_are_in_the_room(
    ws, make_user
):
    """Followers of a public room are notified unless present; private rooms never."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    carl = await sync_to_async(make_user)("carl")
    for user in (ann, bob, carl):
        await sync_to_async(RoomFollow.objects.create)(user=user, room_slug="lobby")
    await get_presence().join("chat.lobby", "c1", carl.pk, "carl")
    communicator = await stream(ws, ann)
    await post("lobby", author=bob, text="<script>x</script>")
    room = await next_notification(communicator)
    assert (room["kind"], room["title"]) == ("room", "New message in #lobby")
    assert room["body"] == "<script>x</script>"
    assert await sync_to_async(titles)(carl) == []  # in the room right now
    assert await sync_to_async(titles)(bob) == []  # the author
    await sync_to_async(RoomFollow.objects.create)(user=ann, room_slug="staff")
    await post("staff", public=False, author=bob)
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_followers_of_a_user_hear_their_public_messages_once(ws, make_user):
    """Ann follows Bob: his public messages notify her once, mention first."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    await sync_to_async(UserFollow.objects.create)(follower=ann, followed=bob)
    communicator = await stream(ws, ann)
    await post("lobby", author=bob, text="news")
    note = await next_notification(communicator)
    assert (note["kind"], note["title"]) == ("user", "bob posted in #lobby")
    await post("private", public=False, author=bob, text="secret")
    assert await communicator.receive_nothing(0.3)
    await sync_to_async(RoomFollow.objects.create)(user=ann, room_slug="lobby")
    await post("lobby", author=bob, text="@ann hi", mentions=["ann"])
    assert (await next_notification(communicator))["kind"] == "mention"
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_notifications_are_said_in_every_language_of_the_site(ws, make_user):
    """Written while the server speaks English, a goal, a chat message and a
    price alert still reach a Chinese page in Chinese: the frame carries each
    language's text, and /notifications/ says it in the reader's language."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    match = await sync_to_async(make_match)("Lions", "Harbour", status="live")
    await sync_to_async(TeamFollow.objects.create)(user=ann, team_id=match.home_id)
    await sync_to_async(UserFollow.objects.create)(follower=ann, followed=bob)
    await sync_to_async(PriceAlert.objects.create)(
        user=ann, symbol="AAPL", direction="above", level="226"
    )
    communicator = await stream(ws, ann)

    await sync_to_async(change)(match.pk, minute=9, home_score=1)
    goal = await next_notification(communicator)
    assert goal["title"] == "Goal! Lions 1-0 Harbour"
    assert goal["texts"]["zh-hans"]["title"] == "进球！Lions 1-0 Harbour"  # noqa: RUF001
    await post(author=bob, text="hi 你好")
    note = await next_notification(communicator)
    assert note["texts"]["en"]["title"] == "bob posted in #lobby"
    assert note["texts"]["zh-hans"] == {
        "title": "bob 在 #lobby 发了消息",
        "body": "hi 你好",
    }
    await tick("AAPL", 226.0, 225.0)
    price = await next_notification(communicator)
    assert price["title"] == "AAPL rose to 226"
    assert price["texts"]["zh-hans"] == {
        "title": "AAPL 涨至 226",
        "body": "你的提醒：涨至或高于 226",  # noqa: RUF001
    }
    await communicator.disconnect()


def test_the_notifications_page_speaks_the_readers_language(client, make_user):
    """The same stored rows, in Chinese for a Chinese reader; a row stored
    without params shows its stored text."""
    from realtime.notifications.service import notify

    ann = make_user("ann")
    notify(ann.pk, "user", params={"author": "bob", "room": "lobby", "text": "hi"})
    notify(ann.pk, "mention", "bob mentioned you", "@ann hi", "/chat/lobby/")
    client.force_login(ann)
    english = client.get("/notifications/").content.decode()
    assert "bob posted in #lobby" in english and "bob mentioned you" in english
    with translation.override("en"):  # the request leaves its language active
        chinese = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = chinese.content.decode()
    assert "bob 在 #lobby 发了消息" in page and "bob posted" not in page
    assert "bob mentioned you" in page
