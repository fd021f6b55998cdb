"""Unread counts on the room list and the "new since you were here" line, in
Chromium: kept per user, and a read in one tab clears the count in another."""

import pytest
from playwright.sync_api import expect

from realtime.chat import service
from realtime.chat.models import Room
from tests.browser.test_chat_page import post, send
from tests.browser.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {"unread": "{} unread", "since": "New since you were here"},
    "zh-hans": {"unread": "{} 条未读", "since": "你上次来过之后的新消息"},
}


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="Lobby")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_unread_counts_follow_new_messages_and_reads_in_other_tabs(
    daphne, login_page, make_user, lobby, language
):
    """ann read the room up to "seen": her room list counts bob's two messages
    since, then a third he sends live; opening the room in a second tab draws the line
    above the first new one, and the first tab's count goes away at once.
    bob's own messages are never unread for him."""
    texts = TEXTS[language]
    server = daphne()
    ann, bob = make_user("ann"), make_user("bob")
    seen = post(lobby, bob, "seen")
    in_thread(service.mark_read, lobby, ann, seen.seq)
    for text in ("new 1", "new 2"):
        post(lobby, bob, text)
    headers = {"Accept-Language": language}
    rooms = login_page(server, ann, extra_http_headers=headers)
    rooms.goto("/chat/")
    count = rooms.locator('.unread-count[data-unread="lobby"]')
    expect(count).to_have_text(texts["unread"].format(2))
    expect(rooms.locator("#connection-badge")).to_have_attribute("data-state", "live")
    theirs = login_page(server, bob, extra_http_headers=headers)
    theirs.goto("/chat/lobby/")
    send(theirs, "new 3")
    expect(count).to_have_text(texts["unread"].format(3))

    room = rooms.context.new_page()
    room.goto("/chat/lobby/")
    line = room.locator(".chat-new-marker")
    expect(line).to_have_text(texts["since"])
    after = room.locator(".chat-new-marker + .chat-msg .msg-body")
    expect(after).to_have_text("new 1")
    expect(count).to_be_hidden()
    rooms.reload()
    expect(rooms.locator('.unread-count[data-unread="lobby"]')).to_be_hidden()

    theirs.goto("/chat/")
    expect(theirs.locator("#connection-badge")).to_have_attribute("data-state", "live")
    expect(theirs.locator('.unread-count[data-unread="lobby"]')).to_be_hidden()
