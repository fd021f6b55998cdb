"""Moderation from the Django admin reaches open chat sockets at once."""

import pytest
from asgiref.sync import sync_to_async

from realtime.chat import service
from realtime.chat.models import Ban, Message, RoomEvent
from realtime.core.envelope import CloseCode
from tests.chat_helpers import closed_with, join
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moderator(django_user_model, login):
    return login(django_user_model.objects.create_superuser("mod", password="pw-1"))


def admin_post(client, url, data):
    """POST to the admin from the test's event loop (the admin is sync code)."""
    return sync_to_async(client.post)(url, data)


async def test_admin_deletes_a_message_and_it_vanishes_live(ws, lobby, ann, moderator):
    """Deleting in the admin sends chat.delete to open sockets; the row stays
    (soft) for moderators, and the deletion has its own seq."""
    message = await sync_to_async(service.post_message)(lobby.pk, ann, "bad words")
    a, _, history = await join(ws, ann)
    assert history["messages"][0]["id"] == message.pk
    url = f"/admin/realtime/message/{message.pk}/delete/"
    response = await admin_post(moderator, url, {"post": "yes"})
    assert response.status_code == 302
    gone = await next_frame(a, "chat.delete")
    assert (gone["id"], gone["seq"]) == (message.pk, 2)
    stored = await Message.objects.aget(pk=message.pk)
    assert stored.deleted_at is not None and stored.text == "bad words"
    assert await RoomEvent.objects.filter(kind="delete").acount() == 1
    await a.disconnect()


async def test_admin_bulk_delete_and_announcement_reach_the_room(
    ws, lobby, ann, moderator
):
    """The changelist's delete action and a room's announcement field go live."""
    for text in ("spam 1", "spam 2"):
        await sync_to_async(service.post_message)(lobby.pk, ann, text)
    a, *_ = await join(ws, ann)
    ids = [m.pk async for m in Message.objects.all()]
    data = {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    await admin_post(moderator, "/admin/realtime/message/", data)
    deleted = {(await next_frame(a, "chat.delete"))["id"] for _ in ids}
    assert deleted == set(ids)
    form = {
        "name": "Lobby",
        "slug": "lobby",
        "topic": "",
        "is_public": "on",
        "max_length": 1000,
        "slow_mode_seconds": 0,
        "closed_reason": "",
        "announcement": "Welcome, 欢迎 <b>all</b>",
    }
    await admin_post(moderator, f"/admin/realtime/room/{lobby.pk}/change/", form)
    note = await next_frame(a, "chat.message")
    assert (note["kind"], note["user"]) == ("announcement", None)
    assert note["text"] == "Welcome, 欢迎 <b>all</b>"
    await a.disconnect()


async def test_admin_ban_closes_the_users_page_with_the_reason(
    ws, lobby, ann, moderator
):
    """A ban added in the admin closes the user's sockets (4005, reason shown)."""
    a, *_ = await join(ws, ann)
    data = {"room": lobby.pk, "user": ann.pk, "reason": "Flooding", "until": ""}
    response = await admin_post(moderator, "/admin/realtime/ban/add/", data)
    assert response.status_code == 302
    assert await closed_with(a, CloseCode.BANNED) == "Flooding"
    assert await Ban.objects.acount() == 1


async def test_admin_mute_and_close_actions_reach_live_clients(
    ws, lobby, ann, moderator
):
    """Muting a message's author tells them; closing the room disconnects all."""
    message = await sync_to_async(service.post_message)(lobby.pk, ann, "loud")
    a, *_ = await join(ws, ann)
    data = {"action": "mute_authors", "_selected_action": [message.pk]}
    await admin_post(moderator, "/admin/realtime/message/", data)
    assert (await next_frame(a, "chat.muted"))["until"] is not None
    await a.send_json_to({"type": "chat.send", "text": "still loud"})
    assert (await next_frame(a, "error"))["code"] == "forbidden"
    data = {"action": "close_rooms", "_selected_action": [lobby.pk]}
    await admin_post(moderator, "/admin/realtime/room/", data)
    assert await closed_with(a, CloseCode.ROOM_CLOSED) == "This room was closed."


async def test_making_a_room_private_drops_non_members(ws, lobby, ann, moderator):
    """Turning a room private closes the sockets of non-members with 4003."""
    a, *_ = await join(ws, ann)
    form = {"name": "Lobby", "slug": "lobby", "max_length": 1000}
    form |= {"slow_mode_seconds": 0, "closed_reason": "", "topic": ""}
    await admin_post(moderator, f"/admin/realtime/room/{lobby.pk}/change/", form)
    assert await closed_with(a, CloseCode.FORBIDDEN)


async def test_whoever_comes_next_meets_the_rooms_new_state(
    ws, lobby, ann, bob, carol, moderator
):
    """Joiners share one read of the room's row. Right after the admin makes
    the room private, the next non-member is refused with 4003; right after it
    closes the room, anyone is refused with its reason."""
    a, *_ = await join(ws, ann)
    form = {"name": "Lobby", "slug": "lobby", "max_length": 1000}
    form |= {"slow_mode_seconds": 0, "closed_reason": "", "topic": ""}
    await admin_post(moderator, f"/admin/realtime/room/{lobby.pk}/change/", form)
    assert await closed_with(a, CloseCode.FORBIDDEN)
    b, connected, _ = await ws("/ws/chat/lobby/", user=bob)
    assert connected  # accepted, to read the code
    assert await closed_with(b, CloseCode.FORBIDDEN)

    await sync_to_async(lobby.members.add)(carol)
    c, *_ = await join(ws, carol)
    data = {"action": "close_rooms", "_selected_action": [lobby.pk]}
    await admin_post(moderator, "/admin/realtime/room/", data)
    assert await closed_with(c, CloseCode.ROOM_CLOSED) == "This room was closed."
    again, connected, _ = await ws("/ws/chat/lobby/", user=carol)
    assert await closed_with(again, CloseCode.ROOM_CLOSED)


def test_room_changelist_shows_online_counts_and_search(lobby, moderator):
    """The rooms list has an "online now" column; messages are searchable."""
    page = moderator.get("/admin/realtime/room/").content.decode()
    assert "Online now" in page
    response = moderator.get("/admin/realtime/message/?q=hello&room__id__exact=1")
    assert response.status_code == 200
