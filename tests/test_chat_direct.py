"""Direct messages: rooms of two that users start from a profile, and that no
one else can see: not over HTTP, not on the socket, not in search, lists or
profiles, not in notifications."""

import pytest
from asgiref.sync import sync_to_async

from realtime.chat import direct
from realtime.chat.models import Room
from realtime.core.envelope import CloseCode
from realtime.models import Notification
from tests.chat_helpers import closed_with, join, post
from tests.frames import ANY, next_frame

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "the secret is 42"


@pytest.fixture
def dm(ann, bob):
    """ann's and bob's direct room, started by ann, with one message of hers."""
    room = direct.start_direct(ann, "bob")
    post(room, ann, SECRET)
    return room


@pytest.fixture
def staff(make_user):
    return make_user("dave", is_staff=True, is_superuser=True)


def test_a_direct_room_is_started_from_a_profile_and_is_one_per_pair(login, ann, bob):
    """ann's POST opens a private room of two; again, or bob's, the same room."""
    page = login(ann).get("/users/bob/")
    assert b'action="/users/bob/message/"' in page.content
    answer = login(ann).post("/users/bob/message/")
    room = Room.objects.get(direct_key__isnull=False)
    assert answer.status_code == 302 and answer.url == f"/chat/{room.slug}/"
    assert not room.is_public and room.slug.startswith("dm-")
    assert set(room.members.values_list("username", flat=True)) == {"ann", "bob"}
    assert login(ann).post("/users/bob/message/").url == answer.url
    assert login(bob).post("/users/ann/message/").url == answer.url
    assert Room.objects.count() == 1
    again = login(ann).get("/users/bob/")  # now a link to the room
    assert f'href="/chat/{room.slug}/"'.encode() in again.content


def test_starting_one_needs_a_login_another_user_and_a_post(login, client, ann):
    """Anonymous: the login page; oneself: refused; nobody: 404; GET: 405."""
    assert client.post("/users/ann/message/").url.startswith("/accounts/login/")
    refused = login(ann).post("/users/ann/message/", follow=True)
    assert "You cannot message yourself." in refused.content.decode()
    assert login(ann).post("/users/nobody/message/").status_code == 404
    assert login(ann).get("/users/ann/message/").status_code == 405
    assert not Room.objects.exists()


def test_a_direct_room_is_listed_for_its_two_members_only(login, dm, bob, carol, staff):
    """/chat/ shows bob "ann" under direct messages; carol and staff see nothing."""
    for_bob = login(bob).get("/chat/").content.decode()
    assert f'href="/chat/{dm.slug}/"' in for_bob
    for other in (carol, staff):
        listing = login(other).get("/chat/").content.decode()
        assert dm.slug not in listing and dm.name not in listing


@pytest.mark.parametrize("who", ["carol", "dave", None])
def test_no_one_else_reads_a_direct_room_over_http(
    login, client, dm, carol, staff, who
):
    """The room page, its search (JSON and page), a message's context page and
    the upload: 404 for a third user, for staff and for a visitor alike."""
    user = {"carol": carol, "dave": staff}.get(who)
    visitor = login(user) if user else client
    paths = [
        f"/chat/{dm.slug}/",
        f"/chat/{dm.slug}/search/?q=secret",
        f"/chat/{dm.slug}/messages/1/",
    ]
    for path in paths:
        answer = visitor.get(path)
        assert answer.status_code == 404, path
        assert SECRET not in answer.content.decode()
    found = visitor.get(paths[1], HTTP_ACCEPT="application/json")
    assert found.status_code == 404 and found.json()["code"] == "not_found"
    upload = visitor.post(f"/chat/{dm.slug}/upload/", {"text": "hi"})
    assert upload.status_code in (401, 404)


def test_the_two_members_read_and_search_it(login, dm, bob):
    """bob opens the room (titled with ann's name), finds the message, sees it
    in context."""
    page = login(bob).get(f"/chat/{dm.slug}/").content.decode()
    assert "Direct messages with ann" in page
    assert "Follow this room" not in page  # followers hear of public rooms only
    found = login(bob).get(
        f"/chat/{dm.slug}/search/?q=SECRET", HTTP_ACCEPT="application/json"
    )
    assert [m["text"] for m in found.json()["results"]] == [SECRET]
    context = login(bob).get(found.json()["results"][0]["url"])
    assert SECRET in context.content.decode()


def test_profiles_show_public_messages_never_direct_ones(login, lobby, dm, ann, carol):
    """ann's profile lists what she said in #lobby, not what she said to bob."""
    post(lobby, ann, "hello everyone")
    for viewer in (login(carol), login(ann)):
        page = viewer.get("/users/ann/").content.decode()
        assert "hello everyone" in page and SECRET not in page


async def test_no_one_else_opens_its_socket(ws, dm, carol, staff):
    """A third user, staff and a visitor: closed with 4004, as for no room."""
    path = f"/ws/chat/{dm.slug}/"
    for user in (carol, staff, None):
        c, connected, _ = await ws(path, user=user)
        assert connected
        assert await closed_with(c, CloseCode.NOT_FOUND) == "No such room."


async def test_the_room_list_socket_leaves_it_out_for_others(ws, lobby, dm, carol):
    """chat.rooms and the unread counts for carol name #lobby only."""
    listing, connected, _ = await ws("/ws/chat/", user=carol)
    assert connected
    seen = []
    rooms = await next_frame(listing, "chat.rooms", skip=ANY, seen=seen)
    assert [r["slug"] for r in rooms["rooms"]] == ["lobby"]
    unreads = [f for f in seen if f["type"] == "chat.unreads"]
    assert [u["room"] for f in unreads for u in f["rooms"]] == ["lobby"]
    await listing.disconnect()


async def test_a_new_direct_room_reaches_the_room_lists_of_its_two_only(
    ws, lobby, ann, bob, carol
):
    """bob starts one with ann: both open room lists get chat.direct, carol's not."""
    lists = {}
    for user in (ann, bob, carol):
        listing, connected, _ = await ws("/ws/chat/", user=user)
        assert connected
        kinds = {"chat.rooms", "chat.unreads"}  # the snapshot, in either order
        while kinds:
            kinds.discard((await next_frame(listing, *kinds, skip=ANY))["type"])
        lists[user.username] = listing
    room = await sync_to_async(direct.start_direct)(bob, "ann")
    for reader, other in (("ann", bob), ("bob", ann)):
        frame = await next_frame(lists[reader], "chat.direct", skip=ANY)
        assert frame == {
            "type": "chat.direct",
            "room": room.slug,
            "with_user": {"id": other.pk, "name": other.username},
        }
    await sync_to_async(direct.start_direct)(ann, "bob")  # the same room: no news
    for listing in lists.values():
        assert await listing.receive_nothing(0.3)
        await listing.disconnect()


async def acked(c, text):
    """Send and wait for the ack: by then the message's notifications exist."""
    await c.send_json_to({"type": "chat.send", "text": text, "cid": text[:60]})
    await next_frame(c, "chat.ack", skip=ANY)


async def test_the_two_talk_live_and_mentions_stay_inside(
    ws, dm, ann, bob, carol, staff
):
    """ann and bob chat live; ann's @carol and @dave notify neither (carol is
    not a member, dave is staff); bob, away, gets a direct notification."""
    a, _, history = await join(ws, ann, path=f"/ws/chat/{dm.slug}/")
    assert [m["text"] for m in history["messages"]] == [SECRET]
    await acked(a, "@carol @dave look")
    assert not await Notification.objects.filter(user__in=[carol, staff]).aexists()
    notes = [n async for n in Notification.objects.filter(user=bob)]
    assert {n.kind for n in notes} == {"direct"}
    assert notes[-1].url == f"/chat/{dm.slug}/" and "ann" in notes[-1].title
    b, *_ = await join(ws, bob, path=f"/ws/chat/{dm.slug}/")
    await acked(b, "hi ann")
    assert (await next_frame(a, "chat.message"))["text"] == "hi ann"
    assert not await Notification.objects.filter(user=ann).aexists()  # she is in
    await a.disconnect()
    await b.disconnect()
