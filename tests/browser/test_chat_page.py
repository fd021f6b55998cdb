"""Chat rooms in Chromium, as visitors and a moderator use them."""

import io
from datetime import UTC, datetime
from functools import partial

import pytest
from PIL import Image
from playwright.sync_api import expect

from realtime.chat import service
from realtime.chat.models import Ban, Mute, Room
from tests.browser.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(
        slug="lobby", name="大厅 <b>Lobby</b>", topic="<i>hi</i>"
    )


def post(room, user, text):
    """Store a message as another process would."""
    return in_thread(service.post_message, room.pk, user, text)


def send(page, text):
    page.locator("#chat-text").fill(text)
    page.locator("#chat-text").press("Enter")


def test_two_visitors_chat_live_and_markup_stays_text(
    daphne, login_page, make_user, lobby, tmp_path
):
    """ann and bob see each other online, typing and messages; @mentions are
    highlighted; an XSS payload is shown as text; an image shows for both."""
    server = daphne(MEDIA_ROOT=str(tmp_path / "media"))
    ann, bob = make_user("ann"), make_user("bob")
    pa = login_page(server, ann)
    pa.goto("/chat/lobby/")
    pb = login_page(server, bob)
    pb.goto("/chat/lobby/")
    expect(pa.locator("#room-name")).to_have_text("大厅 <b>Lobby</b>")
    expect(pa.locator("#presence-list li")).to_have_text(["ann", "bob"])
    expect(pa.locator("#online-count")).to_have_text("2")

    pb.locator("#chat-text").press_sequentially("h")
    expect(pa.locator("#chat-typing")).to_have_text("bob is typing…")
    send(pa, "hello @bob 你好")
    body = pb.locator(".chat-msg .msg-body")
    expect(body).to_have_text(["hello @bob 你好"])
    expect(pb.locator(".msg-body .mention-me")).to_have_text("@bob")
    expect(pb.locator(".chat-msg .msg-author")).to_have_text(["ann"])

    send(pb, XSS)
    expect(pa.locator(".chat-msg .msg-body").last).to_have_text(XSS)
    assert pa.locator("#chat-messages img").count() == 0
    assert pa.evaluate("window.pwned") is None

    send(pb, "tpyo")
    expect(pa.locator(".chat-msg .msg-body").last).to_have_text("tpyo")
    pb.locator(".chat-msg").last.get_by_role("button", name="Message actions").click()
    pb.get_by_role("menuitem", name="Edit").click()
    pb.locator("#chat-text").fill("typo fixed")
    pb.locator("#chat-text").press("Enter")
    expect(pa.locator(".chat-msg .msg-body").last).to_have_text("typo fixed")
    expect(pa.locator(".chat-msg .msg-edited").last).to_be_visible()

    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(picture, "PNG")
    pa.locator("#chat-image").set_input_files(
        {"name": "pic.png", "mimeType": "image/png", "buffer": picture.getvalue()}
    )
    pa.locator("#chat-upload-send").click()
    for page in (pa, pb):
        expect(page.locator("img.msg-image")).to_have_count(1)
        page.wait_for_function(
            "document.querySelector('img.msg-image').naturalWidth === 40"
        )


@pytest.mark.parametrize(
    "init_script", [None, "delete window.WebSocket;"], ids=["websocket", "fallback"]
)
def test_a_reconnect_shows_missed_messages_once(
    daphne, login_page, make_user, lobby, init_script
):
    """The server restarts while messages are posted: after the page reconnects
    they appear once each, in order, without a reload; over WebSocket and over
    the fallback transport (a page without WebSocket) alike."""
    server = daphne()
    ann = make_user("ann")
    page = login_page(server, ann)
    if init_script:
        page.context.add_init_script(init_script)
    page.goto("/chat/lobby/")
    send(page, "before")
    expect(page.locator(".chat-msg .msg-body")).to_have_text(["before"])
    server.stop()
    expect(page.locator("#connection-badge")).to_have_attribute(
        "data-state", "reconnecting"
    )
    for text in ("while down 1", "while down 2"):
        post(lobby, ann, text)
    server.start()
    expect(page.locator(".chat-msg .msg-body")).to_have_text(
        ["before", "while down 1", "while down 2"], timeout=15_000
    )
    send(page, "after")
    expect(page.locator(".chat-msg .msg-body")).to_have_text(
        ["before", "while down 1", "while down 2", "after"]
    )


def test_admin_delete_and_ban_reach_the_open_page(
    daphne, login_page, make_user, lobby, django_user_model
):
    """A message deleted in the admin vanishes from the open page; a ban closes
    the banned user's page, with the reason shown."""
    server = daphne()
    ann = make_user("ann")
    moderator = django_user_model.objects.create_superuser("mod", password="pw-123")
    doomed = post(lobby, ann, "delete me")
    page = login_page(server, ann)
    page.goto("/chat/lobby/")
    expect(page.locator(f"#msg-{doomed.pk} .msg-body")).to_have_text("delete me")
    admin = login_page(server, moderator)
    admin.goto(f"/admin/realtime/message/{doomed.pk}/delete/")
    admin.locator("input[type=submit]").click()
    expect(page.locator(f"#msg-{doomed.pk}")).to_have_count(0)

    admin.goto("/admin/realtime/ban/add/")
    admin.locator("#id_room").select_option(label="大厅 <b>Lobby</b>")
    admin.locator("#id_user").select_option(label="ann")
    admin.locator("#id_reason").fill("Spamming / 刷屏")
    admin.locator("input[name=_save]").click()
    refused = page.locator("#chat-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("You were banned from this room.")
    expect(refused).to_contain_text("Spamming / 刷屏")
    expect(page.locator("#chat-form")).to_be_hidden()


def test_a_mute_shows_its_end_in_the_readers_time_zone(
    daphne, login_page, make_user, lobby
):
    """A muted visitor reads when the mute ends in their own local time, on
    joining and when a post is refused, never an ISO 8601 timestamp."""
    server = daphne()
    ann = make_user("ann")
    until = datetime(2030, 6, 1, 13, 5, tzinfo=UTC)
    mute = partial(Mute.objects.create, room=lobby, user=ann, until=until)
    in_thread(partial(mute, reason="cool off"))
    page = login_page(server, ann, timezone_id="Asia/Shanghai")
    page.goto("/chat/lobby/")
    error = page.locator("#chat-error")
    local = "You are muted in this room until Jun 1, 2030, 9:05 PM."
    expect(error).to_have_text(local)
    send(page, "can I?")
    expect(error).to_have_text(local + " cool off")


@pytest.mark.parametrize("refusal", ["banned", "closed"])
def test_a_refused_room_says_why_and_does_not_reconnect(
    daphne, login_page, make_user, lobby, refusal
):
    """A banned user opening the room, or anyone opening a closed room, sees why
    (the close reason) once; the page does not reconnect in a loop."""
    server = daphne()
    ann = make_user("ann")
    if refusal == "banned":
        Ban.objects.create(room=lobby, user=ann, reason="Spamming / 刷屏")
        expected, reason = "You were banned from this room.", "Spamming / 刷屏"
    else:
        Room.objects.filter(pk=lobby.pk).update(closed=True, closed_reason="Archived.")
        expected, reason = "This room was closed.", "Archived."
    page = login_page(server, ann)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto("/chat/lobby/")
    refused = page.locator("#chat-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text(expected)
    expect(refused).to_contain_text(reason)
    page.wait_for_function("window.chatSocket.state === 'offline'")
    page.wait_for_timeout(3000)  # a first retry comes within 250 ms
    assert [url for url in sockets if "/ws/chat/lobby/" in url] == [
        server.ws_url + "/ws/chat/lobby/"
    ]
    assert page.evaluate("window.chatSocket.state") == "offline"
