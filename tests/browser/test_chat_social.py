"""Direct messages, room search and profiles in Chromium, in English and Chinese."""

import pytest
from playwright.sync_api import expect

from realtime.chat import service
from realtime.chat.models import Room
from tests.browser.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
LANGUAGES = [
    ({}, "Send a direct message", "Direct messages with ann", "1 message found"),
    (ZH, "发送私信", "与 ann 的私信", "找到 1 条消息"),
]


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="大厅 Lobby")


def send(page, text):
    page.locator("#chat-text").fill(text)
    page.locator("#chat-text").press("Enter")


@pytest.mark.parametrize(("options", "start", "title", "count"), LANGUAGES)
def test_a_direct_message_started_from_a_profile_reaches_both_live(
    daphne, login_page, make_user, lobby, options, start, title, count
):
    """bob clicks ann's name in #lobby, starts a DM on her profile; it appears
    in ann's open room list, not carol's; both see each other's messages live;
    carol gets no such room."""
    server = daphne()
    ann, bob, carol = make_user("ann"), make_user("bob"), make_user("carol")
    in_thread(service.post_message, lobby.pk, ann, "hi all")
    lists = {}
    for user in (ann, carol):
        lists[user.username] = login_page(server, user, **options)
        lists[user.username].goto("/chat/")
        expect(lists[user.username].locator(".online-count")).to_have_text("0")
    expect(lists["ann"].locator("#direct-list li")).to_have_count(0)
    pb = login_page(server, bob, **options)
    pb.goto("/chat/lobby/")
    pb.locator(".chat-msg .msg-author a", has_text="ann").click()
    expect(pb.locator("h1")).to_have_text("ann")
    expect(pb.locator(".profile-messages")).to_contain_text("hi all")
    pb.get_by_role("button", name=start).click()
    expect(pb.locator("#room-name")).to_have_text(title)
    slug = pb.url.rstrip("/").rsplit("/", 1)[-1]
    pa = lists["ann"]
    expect(pa.locator("#direct-none")).to_be_hidden()
    pa.locator("#direct-list").get_by_role("link", name="bob").click()
    expect(pa).to_have_url(f"{server.url}/chat/{slug}/")
    expect(pa.locator("#presence-list li")).to_have_count(2)
    send(pb, "psst 你好")
    expect(pa.locator(".chat-msg .msg-body")).to_have_text(["psst 你好"])
    send(pa, "hello bob")
    expect(pb.locator(".chat-msg .msg-body")).to_have_text(["psst 你好", "hello bob"])
    pc = lists["carol"]
    expect(pc.locator("#direct-list li")).to_have_count(0)
    assert pc.goto(f"/chat/{slug}/").status == 404
    pc.goto("/chat/")
    expect(pc.locator("#chat-lobby")).to_be_visible()
    assert slug not in pc.content()


@pytest.mark.parametrize(("options", "start", "title", "count"), LANGUAGES)
def test_search_finds_a_message_and_jumps_to_it(
    daphne, login_page, make_user, lobby, options, start, title, count
):
    """A search in the room lists the match with the query marked; its link
    highlights the message in the room."""
    server = daphne()
    ann = make_user("ann")
    for text in ("first words", "the needle 针", "last words"):
        in_thread(service.post_message, lobby.pk, ann, text)
    page = login_page(server, ann, **options)
    page.goto("/chat/lobby/")
    expect(page.locator(".chat-msg .msg-body")).to_have_count(3)
    page.locator("#chat-search-q").fill("NEEDLE")
    page.locator("#chat-search-q").press("Enter")
    expect(page.locator("#chat-search-status")).to_have_text(count)
    expect(page.locator("#chat-search-list .msg-body")).to_have_text(["the needle 针"])
    expect(page.locator("#chat-search-list mark")).to_have_text("needle")
    page.locator("#chat-search-list .msg-context").click()
    expect(page.locator("#chat-messages .found .msg-body")).to_have_text(
        "the needle 针"
    )
    assert page.url.endswith("/chat/lobby/")


@pytest.mark.parametrize(
    ("options", "follow", "unfollow"),
    [
        ({}, "Follow this room", "Unfollow this room"),
        (ZH, "关注此聊天室", "取消关注此聊天室"),
    ],
)
def test_the_room_is_followed_from_inside_it(
    daphne, login_page, make_user, lobby, options, follow, unfollow
):
    """The button follows #lobby in place (no reload) and unfollows it again."""
    from realtime.models import RoomFollow

    server = daphne()
    page = login_page(server, make_user("ann"), **options)
    page.goto("/chat/lobby/")
    page.evaluate("window.stayed = true")
    page.get_by_role("button", name=follow, exact=True).click()
    expect(page.get_by_role("button", name=unfollow)).to_be_visible()
    assert RoomFollow.objects.get().room_slug == "lobby"
    assert page.evaluate("window.stayed") is True
    page.get_by_role("button", name=unfollow).click()
    expect(page.get_by_role("button", name=follow, exact=True)).to_be_visible()
    assert not RoomFollow.objects.exists()
