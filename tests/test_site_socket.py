"""/ws/site/: announcements for everyone, and a logged-in user's notifications."""

import pytest
from asgiref.sync import sync_to_async

from realtime.notifications.service import notify

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_site_socket_carries_a_users_notification_stream(ws, make_user):
    """A hello on /ws/site/ starts the stream as on /ws/notifications/."""
    ann = await sync_to_async(make_user)("ann")
    await sync_to_async(notify)(ann.pk, "mention", "before")
    site, connected, _ = await ws("/ws/site/", user=ann)
    assert connected
    await site.send_json_to({"type": "notifications.hello", "after": 0})
    state = await site.receive_json_from()
    assert (state["type"], state["unread"], state["last_seq"]) == (
        "notifications.state",
        1,
        1,
    )
    assert (await site.receive_json_from())["notification"]["title"] == "before"
    await sync_to_async(notify)(ann.pk, "mention", "live")
    assert (await site.receive_json_from())["notification"]["title"] == "live"
    await site.disconnect()


async def test_an_anonymous_site_socket_has_announcements_only(ws):
    """No account, no stream: a hello is an unknown type, and the socket stays."""
    site, connected, _ = await ws("/ws/site/")
    assert connected
    await site.send_json_to({"type": "notifications.hello", "after": 0})
    error = await site.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    await site.send_json_to({"type": "ping"})
    assert await site.receive_json_from() == {"type": "pong"}
    await site.disconnect()
