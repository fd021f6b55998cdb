"""Authorization boundaries: private rooms, other users' notifications, games a
user does not play in, and anonymous visitors. Nothing may cross them."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from realtime.chat import service as chat_service
from realtime.chat.models import Message, Room
from realtime.core.envelope import CloseCode
from realtime.game import service as game_service
from realtime.models import Game, Move, Notification, PriceAlert
from realtime.notifications import service as notify
from tests.frames import ANY, drain, next_frame

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "the launch code is 0000"
PNG = (  # a 1x1 PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def people(players):
    """ann and bob are members of the private room; carol is not."""
    for user in players:
        user.email = f"{user.username}@example.org"
        user.save()
    return players


@pytest.fixture
def secret(people):
    room = Room.objects.create(
        slug="secret", name="Secret 密室", topic=SECRET, is_public=False
    )
    room.members.add(people[0], people[1])
    return room


async def refused(c, code: CloseCode) -> str:
    """The very first output is the close: no frame went out before it."""
    output = await c.receive_output(3)
    assert output["type"] == "websocket.close", output
    assert output["code"] == code
    return output.get("reason", "")


def frames_text(frames) -> str:
    return json.dumps(frames, ensure_ascii=False)


# Private chat rooms.


async def test_private_room_refuses_outsiders_4003_before_any_frame(ws, people, secret):
    """carol and a visitor get 4003 as the first output; members see no trace."""
    ann, _, carol = people
    member, connected, _ = await ws("/ws/chat/secret/", user=ann)
    assert connected
    await member.send_json_to({"type": "chat.join"})
    before = await drain(member)
    assert before[0]["type"] in ("chat.presence", "chat.joined")
    for user in (carol, None):
        outsider, connected, _ = await ws("/ws/chat/secret/", user=user)
        assert connected
        assert "private" in await refused(outsider, CloseCode.FORBIDDEN)
        assert await outsider.receive_nothing(0.2)
    await sync_to_async(chat_service.post_message)(secret.pk, ann, SECRET)
    seen = await drain(member)
    assert [f["type"] for f in seen if f["type"] != "chat.presence"] == ["chat.message"]
    # The member's own join may still be on its way (diffs are coalesced);
    # the outsiders appear in none.
    assert "carol" not in frames_text([f for f in seen if f["type"] == "chat.presence"])
    await member.disconnect()


async def test_private_room_is_absent_from_an_outsiders_room_list(ws, people, secret):
    """/ws/chat/ neither lists a private room nor streams its online count."""
    ann, _, carol = people
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    rooms, _, _ = await ws("/ws/chat/", user=carol)
    seen = []
    snapshot = await next_frame(rooms, "chat.rooms", skip=ANY, seen=seen)
    assert [r["slug"] for r in snapshot["rooms"]] == ["lobby"]
    unreads = [
        u["room"] for f in seen if f["type"] == "chat.unreads" for u in f["rooms"]
    ]
    assert unreads == ["lobby"]
    member, _, _ = await ws("/ws/chat/secret/", user=ann)
    await member.send_json_to({"type": "chat.join"})
    await sync_to_async(chat_service.post_message)(secret.pk, ann, SECRET)
    await drain(member)
    assert await rooms.receive_nothing(0.3)
    await member.disconnect()
    assert await rooms.receive_nothing(0.3)
    await rooms.disconnect()


async def test_a_removed_member_is_closed_4003_and_gets_no_more(ws, people, secret):
    """Taking bob out of the room closes his open socket; later posts never reach it."""
    ann, bob, _ = people
    c, _, _ = await ws("/ws/chat/secret/", user=bob)
    await c.send_json_to({"type": "chat.join"})
    await drain(c)

    def remove():
        secret.members.remove(bob)
        chat_service.notify_access_changed(secret)

    await sync_to_async(remove)()
    while (output := await c.receive_output(3))["type"] != "websocket.close":
        pass
    assert output["code"] == CloseCode.FORBIDDEN
    await sync_to_async(chat_service.post_message)(secret.pk, ann, SECRET)
    assert await c.receive_nothing(0.3)


def test_private_room_pages_and_upload_refuse_outsiders(people, secret, tmp_path):
    """The page is a 404 (its existence stays private), the list omits it, an
    upload is a 404 too and stores nothing; a visitor's upload is a 401."""
    ann, _, carol = people
    client = Client()
    client.force_login(carol)
    assert client.get("/chat/secret/").status_code == 404
    assert "secret" not in client.get("/chat/").content.decode()
    assert SECRET not in client.get("/chat/").content.decode()
    image = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path)):
        upload = client.post("/chat/secret/upload/", {"image": image, "text": "hi"})
        assert upload.status_code == 404
        assert upload.json()["code"] == "not_found"
        image.seek(0)
        anonymous = Client().post("/chat/secret/upload/", {"image": image})
        assert anonymous.status_code == 401
    assert not list(tmp_path.rglob("*.png"))
    assert Message.objects.filter(room=secret).count() == 0
    member = Client()
    member.force_login(ann)
    assert SECRET in member.get("/chat/secret/").content.decode()


async def test_a_mention_does_not_carry_private_text_to_an_outsider(ws, people, secret):
    """ "@carol" in a private room notifies no outsider; "@bob" notifies the member."""
    ann, bob, carol = people
    outsider, _, _ = await ws("/ws/notifications/", user=carol)
    await outsider.send_json_to({"type": "notifications.hello", "after": 0})
    assert (await outsider.receive_json_from())["type"] == "notifications.state"
    await sync_to_async(chat_service.post_message)(
        secret.pk, ann, f"@carol @bob {SECRET}"
    )
    assert await outsider.receive_nothing(0.5)
    assert not await sync_to_async(Notification.objects.filter(user=carol).exists)()
    notes = await sync_to_async(list)(Notification.objects.filter(user=bob))
    assert [n.kind for n in notes] == ["mention"]
    await outsider.disconnect()


def test_following_a_private_room_or_a_member_brings_nothing(people, secret):
    """carol follows the private room's slug and ann: ann's private posts stay put."""
    ann, _, carol = people
    client = Client()
    client.force_login(carol)
    accept = {"HTTP_ACCEPT": "application/json"}
    assert client.post("/notifications/follow/room/secret/", **accept).json() == {
        "following": True
    }
    assert client.post("/notifications/follow/user/ann/", **accept).status_code == 200
    chat_service.post_message(secret.pk, ann, SECRET)
    assert not Notification.objects.filter(user=carol).exists()
    assert SECRET not in client.get("/notifications/").content.decode()


# Another user's notifications.


async def test_no_frame_path_or_query_reaches_another_users_stream(ws, people):
    """ann names bob every way she can: path, query, hello fields, follow frames.
    She gets only her own notifications; bob's never reach her."""
    ann, bob, _ = people
    bob_topic = f"user.{bob.pk}"
    paths = [
        f"/ws/notifications/?user={bob.pk}&user_id={bob.pk}&topic={bob_topic}",
        f"/ws/notifications/{bob.pk}/",
    ]
    wrong_path, _, _ = await ws(paths[1], user=ann)
    await refused(wrong_path, CloseCode.NOT_FOUND)
    c, connected, _ = await ws(paths[0], user=ann)
    assert connected
    hello = {"type": "notifications.hello", "after": 0, "user": bob.pk}
    hello |= {"user_id": bob.pk, "topic": bob_topic, "stream": bob_topic}
    await c.send_json_to(hello)
    assert (await c.receive_json_from())["type"] == "notifications.state"
    for kind in ("notifications.follow", "follow", "subscribe", "notifications.join"):
        await c.send_json_to({"type": kind, "topic": bob_topic, "user": bob.pk})
        assert (await c.receive_json_from())["code"] == "unknown_type"
    await c.send_json_to({"type": "notifications.hello", "after": 0, "user": bob.pk})
    assert (await c.receive_json_from())["code"] == "conflict"
    for path in ("/ws/site/", "/ws/scores/", "/ws/quotes/", "/ws/game/lobby/"):
        other, _, _ = await ws(path, user=ann)
        await drain(other)
        await other.send_json_to({"type": "follow", "topic": bob_topic})
        assert [f.get("code") for f in await drain(other)] == ["unknown_type"]
        await sync_to_async(notify.notify)(bob.pk, "mention", SECRET)
        assert SECRET not in frames_text(await drain(other))
        await other.disconnect()

    await sync_to_async(notify.notify)(bob.pk, "mention", SECRET, SECRET)
    await sync_to_async(notify.notify)(ann.pk, "room", "for ann")
    mine = await c.receive_json_from()
    assert mine["notification"]["title"] == "for ann" and mine["seq"] == 1
    assert SECRET not in frames_text(await drain(c))
    await c.disconnect()


async def test_marking_read_touches_only_ones_own_notifications(ws, people):
    """ann's read of seq 1 and read_all leave bob's unread count alone."""
    ann, bob, _ = people
    await sync_to_async(notify.notify)(bob.pk, "mention", SECRET)
    c, _, _ = await ws("/ws/notifications/", user=ann)
    await c.send_json_to({"type": "notifications.hello", "after": 0})
    await c.receive_json_from()
    await c.send_json_to({"type": "notifications.read", "seq": 1})
    assert (await c.receive_json_from())["code"] == "not_found"
    await c.send_json_to({"type": "notifications.read_all"})
    await drain(c)
    unread = Notification.objects.filter(user=bob, read=False).count
    assert await sync_to_async(unread)() == 1
    await c.disconnect()


def test_notification_pages_show_and_change_only_ones_own(people):
    """The list, a bob-named query, read-all and alert delete act on ann's rows only."""
    ann, bob, _ = people
    notify.notify(bob.pk, "mention", SECRET)
    alert = PriceAlert.objects.create(
        user=bob, symbol="AAPL", direction="above", level=1
    )
    client = Client()
    client.force_login(ann)
    for url in ("/notifications/", f"/notifications/?user={bob.pk}&user_id={bob.pk}"):
        assert SECRET not in client.get(url).content.decode()
    assert "AAPL" not in client.get("/notifications/settings/").content.decode()
    client.post("/notifications/read/")
    client.post(f"/notifications/alerts/{alert.pk}/delete/")
    assert PriceAlert.objects.filter(pk=alert.pk).exists()
    assert Notification.objects.get(user=bob).read is False


# Games a user does not play in.


async def test_a_third_user_cannot_move_resign_claim_or_rematch(ws, people):
    """carol's actions are refused as not_a_player and change nothing."""
    ann, bob, carol = people
    game = await sync_to_async(game_service.create_game)(ann, 0)
    await sync_to_async(game_service.join)(game.pk, bob)
    c, _, _ = await ws(f"/ws/game/{game.pk}/", user=carol)
    await next_frame(c, "game.snapshot", skip=ANY)
    actions = [
        {"type": "game.move", "x": 7, "y": 7},
        {"type": "game.resign"},
        {"type": "game.claim"},
        {"type": "game.rematch"},
    ]
    for action in actions:
        await c.send_json_to(action)
        refusal = await next_frame(c, "error", skip=ANY)
        assert (refusal["code"], refusal["reason"]) == ("forbidden", "not_a_player")
    await c.send_json_to({"type": "game.join"})
    assert (await next_frame(c, "error", skip=ANY))["reason"] == "not_open"
    row = await sync_to_async(Game.objects.get)(pk=game.pk)
    assert (row.status, row.seq, row.black_id, row.white_id) == (
        "active",
        1,
        ann.pk,
        bob.pk,
    )
    await sync_to_async(game_service.resign)(game.pk, bob)
    await next_frame(c, "game.over", skip=ANY)
    await c.send_json_to({"type": "game.rematch"})
    assert (await next_frame(c, "error", skip=ANY))["reason"] == "not_a_player"
    row = await sync_to_async(Game.objects.get)(pk=game.pk)
    assert row.rematch_offered_by_id is None and row.rematch_id is None
    assert await sync_to_async(Move.objects.filter(game=game).count)() == 0
    await c.disconnect()


async def test_anonymous_visitors_may_watch_but_not_act(ws, people):
    """A visitor's join, move, chat, resign and lobby.create all need an account."""
    ann, _, _ = people
    game = await sync_to_async(game_service.create_game)(ann, 0)
    c, _, _ = await ws(f"/ws/game/{game.pk}/")
    await next_frame(c, "game.snapshot", skip=ANY)
    for action in ("game.join", "game.move", "game.chat", "game.resign", "game.claim"):
        await c.send_json_to({"type": action, "x": 1, "y": 1, "text": "hi"})
        refusal = await next_frame(c, "error", skip=ANY)
        assert (refusal["code"], refusal["reason"]) == (
            "unauthenticated",
            "login_required",
        )
    lobby, _, _ = await ws("/ws/game/lobby/")
    await lobby.send_json_to({"type": "lobby.create", "clock": 5})
    assert (await next_frame(lobby, "error", skip=ANY))["code"] == "unauthenticated"
    assert await sync_to_async(Game.objects.count)() == 1
    row = await sync_to_async(Game.objects.get)(pk=game.pk)
    assert (row.status, row.white_id) == ("waiting", None)
    await c.disconnect()
    await lobby.disconnect()


async def test_spectators_see_names_only_never_accounts(ws, people, secret):
    """Everything a spectator receives names players by id and name only: no
    email, password hash, session key or private room text."""
    ann, bob, carol = people
    game = await sync_to_async(game_service.create_game)(ann, 3)
    spectators = [(await ws(f"/ws/game/{game.pk}/", user=u))[0] for u in (carol, None)]
    lobby, _, _ = await ws("/ws/game/lobby/")
    players = [(await ws(f"/ws/game/{game.pk}/", user=u))[0] for u in (ann, bob)]
    await players[1].send_json_to({"type": "game.join"})
    await next_frame(players[1], "game.started", skip=ANY)
    await players[0].send_json_to({"type": "game.move", "x": 7, "y": 7})
    await players[1].send_json_to({"type": "game.chat", "text": "gg"})
    await next_frame(players[1], "game.move", skip=ANY)
    await next_frame(players[1], "game.chat", skip=ANY)
    seen = frames_text([await drain(s) for s in [*spectators, lobby]])
    assert "game.move" in seen and "game.chat" in seen
    for user in people:
        assert user.email not in seen and user.password not in seen
    assert "pbkdf2" not in seen and "sessionid" not in seen and SECRET not in seen
    for socket in [*spectators, lobby, *players]:
        await socket.disconnect()


# Anonymous visitors where an account is needed.


async def test_anonymous_visitors_are_refused_where_an_account_is_needed(ws, people):
    """Notifications close 4001; chat writes are unauthenticated; HTTP gives 401."""
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    c, connected, _ = await ws("/ws/notifications/")
    assert connected
    await refused(c, CloseCode.UNAUTHENTICATED)
    chat, _, _ = await ws("/ws/chat/lobby/")
    writes = [
        {"type": "chat.send", "text": "hi"},
        {"type": "chat.edit", "id": 1, "text": "hi"},
        {"type": "chat.delete", "id": 1},
        {"type": "chat.typing"},
    ]
    for frame in writes:
        await chat.send_json_to(frame)
        replies = [f for f in await drain(chat) if f["type"] == "error"]
        assert [f["code"] for f in replies] == ["unauthenticated"], frame
    assert await sync_to_async(Message.objects.count)() == 0
    await chat.disconnect()

    def http_refusals():
        client, accept = Client(), {"HTTP_ACCEPT": "application/json"}
        posts = [
            "/notifications/read/",
            "/notifications/alerts/",
            "/notifications/follow/room/lobby/",
            "/notifications/follow/user/ann/",
            "/quotes/api/watchlist/",
            "/chat/lobby/upload/",
        ]
        codes = {url: client.post(url, **accept).status_code for url in posts}
        codes["GET /quotes/api/watchlist/"] = client.get(
            "/quotes/api/watchlist/"
        ).status_code
        page = client.get("/notifications/")
        return codes, page

    codes, page = await sync_to_async(http_refusals)()
    assert set(codes.values()) == {401}, codes
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
