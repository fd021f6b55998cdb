"""Personal access tokens on the sockets: who a handshake authenticates as."""

import logging

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from project.asgi import application
from realtime.chat.models import Message, Room
from realtime.core.envelope import CloseCode
from realtime.tokens import service
from realtime.tokens.models import AccessToken
from tests.frames import ANY, next_frame

pytestmark = pytest.mark.django_db(transaction=True)

LOBBY = "/ws/chat/lobby/"
INVALID = (CloseCode.UNAUTHENTICATED, "invalid token")


@pytest.fixture(autouse=True)
async def close_db_thread():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def lobby(db):
    return Room.objects.create(slug="lobby", name="大厅 Lobby")


@pytest.fixture
def ann(make_user):
    return make_user("ann")


@pytest.fixture
def ann_token(ann):
    return service.create_token(user=ann, name="my bot")[1]


async def open_socket(path, *, token=None, origin=None, cookie=None, protocols=None):
    headers = [(b"host", b"localhost")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(
        application, path, headers=headers, subprotocols=protocols
    )
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


async def closed_with(communicator) -> tuple[int, str]:
    """The close a refused socket got: (code, reason)."""
    message = await communicator.receive_output(3)
    assert message["type"] == "websocket.close", message
    return message["code"], message.get("reason", "")


async def test_token_without_origin_chats_as_its_user(lobby, ann, ann_token):
    """A bot with a token, no Origin and no cookie, posts to a room as its owner."""
    bot, connected, subprotocol = await open_socket(
        LOBBY, token=ann_token, protocols=["chat"]
    )
    assert connected and subprotocol == "chat"
    await bot.send_to(text_data="hello from a bot 机器人")
    assert await bot.receive_from(3) == "ann: hello from a bot 机器人"
    stored = await Message.objects.select_related("author").aget(room=lobby)
    assert (stored.author.username, stored.text) == ("ann", "hello from a bot 机器人")
    await bot.disconnect()


async def test_token_works_on_a_socket_that_needs_an_account(ann_token):
    """Notifications close anonymous visitors with 4001; a token's user stays."""
    bot, connected, _ = await open_socket("/ws/notifications/", token=ann_token)
    assert connected
    await bot.send_json_to({"type": "ping"})
    assert await bot.receive_json_from(3) == {"type": "pong"}
    await bot.disconnect()


async def test_cookie_without_origin_authenticates_no_one(ann, session_for):
    """Cross-site WebSocket hijacking stays closed: a cookie alone gets 403."""
    key = await sync_to_async(session_for)(ann)
    _, connected, _ = await open_socket("/ws/notifications/", cookie=key)
    assert not connected


async def test_token_decides_the_user_not_the_cookie(
    lobby, make_user, ann_token, session_for
):
    """With a token, a cookie sent alongside is ignored."""
    bob = await sync_to_async(make_user)("bob")
    key = await sync_to_async(session_for)(bob)
    bot, connected, _ = await open_socket(LOBBY, token=ann_token, cookie=key)
    assert connected
    await bot.send_json_to({"type": "chat.join", "after": 0})
    joined = await next_frame(bot, "chat.joined", skip=ANY, wait=3)
    assert joined["you"]["name"] == "ann"
    await bot.disconnect()


async def test_token_with_another_origin_is_refused(ann_token):
    """Whenever an Origin is sent the same-origin rule applies, token or not."""
    _, connected, _ = await open_socket(
        "/ws/notifications/", token=ann_token, origin="http://evil.example"
    )
    assert not connected


async def test_token_with_the_site_origin_authenticates(ann_token):
    """A client that sends the site's own Origin and a token is the token's user."""
    bot, connected, _ = await open_socket(
        "/ws/notifications/", token=ann_token, origin="http://localhost"
    )
    assert connected
    await bot.send_json_to({"type": "ping"})
    assert await bot.receive_json_from(3) == {"type": "pong"}
    await bot.disconnect()


@pytest.mark.parametrize(
    "token",
    [
        "dpx_" + "A" * 43,  # well formed, never issued
        "dpx_short",
        "not-a-duplex-token",
        "",
    ],
)
async def test_bad_token_is_refused_with_4001(caplog, token, lobby):
    """A wrong or malformed token: accepted, closed 4001 "invalid token"; logged
    without the token."""
    caplog.set_level(logging.INFO)
    bot, connected, subprotocol = await open_socket(
        LOBBY, token=token, protocols=["chat"]
    )
    assert connected and subprotocol == "chat"
    assert await closed_with(bot) == INVALID
    refusals = [r for r in caplog.records if getattr(r, "event", "") == "token"]
    assert [(r.path, r.code) for r in refusals] == [(LOBBY, 4001)]
    if token:
        assert all(
            token not in r.getMessage() + str(r.__dict__) for r in caplog.records
        )


async def test_revoked_token_is_refused(ann, ann_token):
    """A revoked token authenticates no one from then on."""
    row = await AccessToken.objects.aget(user=ann)
    assert await sync_to_async(service.revoke_token)(user=ann, token_id=row.pk)
    bot, connected, _ = await open_socket("/ws/notifications/", token=ann_token)
    assert connected
    assert await closed_with(bot) == INVALID


async def test_token_of_a_deactivated_account_is_refused(ann, ann_token):
    """Deactivating the account stops its tokens."""
    await type(ann).objects.filter(pk=ann.pk).aupdate(is_active=False)
    bot, _, _ = await open_socket("/ws/notifications/", token=ann_token)
    assert await closed_with(bot) == INVALID


async def test_other_authorization_schemes_are_refused():
    """``Authorization: Basic ...`` is not a token: 4001, not a session lookup."""
    communicator = WebsocketCommunicator(
        application,
        "/ws/notifications/",
        headers=[(b"authorization", b"Basic YW5uOnB3")],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert await closed_with(communicator) == INVALID


async def test_last_use_is_recorded(ann, ann_token):
    """The token's last use is recorded, so its owner can spot an unused one."""
    assert (await AccessToken.objects.aget(user=ann)).last_used_at is None
    bot, _, _ = await open_socket("/ws/notifications/", token=ann_token)
    await bot.disconnect()
    assert (await AccessToken.objects.aget(user=ann)).last_used_at is not None


async def test_public_echo_ignores_tokens():
    """The echo needs no one: a bad token there is not even looked at."""
    echo, connected, _ = await open_socket("/echo", token="dpx_nonsense")
    assert connected
    await echo.send_to(text_data="hi")
    assert await echo.receive_from(3) == "hi"
    await echo.disconnect()


def test_only_a_hash_is_stored(ann):
    """The database holds the token's sha256 and a short hint, never the token."""
    row, token = service.create_token(user=ann, name="ci")
    assert service.TOKEN_RE.fullmatch(token) and token.startswith("dpx_")
    assert row.digest == service.digest(token) and len(row.digest) == 64
    stored = AccessToken.objects.filter(pk=row.pk).values().get()
    assert not any(token in str(value) for value in stored.values())
    assert row.hint == token[:8]
