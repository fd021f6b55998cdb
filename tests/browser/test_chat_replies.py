"""Replies, reactions and the message menu in Chromium, and the room on a phone."""

from functools import partial

import pytest
from playwright.sync_api import expect

from realtime.chat import service
from realtime.chat.models import Room
from tests.browser.test_accessibility import AXE, RUN_AXE, TAGS
from tests.browser.test_chat_page import post, send
from tests.browser.threads import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="Lobby")


def message(page, text):
    return page.locator(".chat-msg", has=page.locator(".msg-body", has_text=text))


def test_reply_and_react_from_the_keyboard_live_and_after_a_reload(
    daphne, login_page, make_user, lobby
):
    """ann opens a message's menu with the keyboard, replies and reacts; bob
    sees the quote and the 👍 at once, adds his own; after a reload both are
    still there, and ann's chip is pressed."""
    server = daphne()
    ann, bob = make_user("ann"), make_user("bob")
    post(lobby, bob, "lunch at noon?")
    pa, pb = login_page(server, ann), login_page(server, bob)
    for page in (pa, pb):
        page.goto("/chat/lobby/")
        badge = page.locator("#connection-badge")
        expect(badge).to_have_attribute("data-state", "live")
    button = message(pa, "lunch at noon?").get_by_role("button", name="Message actions")
    button.focus()
    button.press("Enter")
    menu = pa.get_by_role("menu")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(pa.get_by_role("menuitem", name="Reply")).to_be_focused()
    expect(menu.get_by_role("menuitem", name="Edit")).to_have_count(0)  # not mine
    pa.keyboard.press("Enter")
    expect(menu).to_have_count(0)
    expect(pa.locator("#chat-reply")).to_contain_text("Replying to bob: lunch at noon?")
    expect(pa.locator("#chat-text")).to_be_focused()
    pa.keyboard.type("yes, see you")
    pa.keyboard.press("Enter")
    reply = message(pb, "yes, see you")
    expect(reply.locator(".msg-quote")).to_have_text("↪ bob lunch at noon?")
    expect(pa.locator("#chat-reply")).to_be_hidden()

    button.press("ArrowDown")  # opens on the first item too
    pa.keyboard.press("ArrowDown")
    expect(pa.get_by_role("menuitem", name="React with 👍")).to_be_focused()
    pa.keyboard.press("Enter")
    expect(button).to_be_focused()
    chip = message(pb, "lunch at noon?").locator(".reaction")
    expect(chip).to_have_text("👍 1")
    expect(chip).to_have_attribute("aria-pressed", "false")
    chip.click()
    expect(message(pa, "lunch at noon?").locator(".reaction")).to_have_text("👍 2")

    pa.reload()
    expect(message(pa, "yes, see you").locator(".msg-quote")).to_contain_text("bob")
    mine = message(pa, "lunch at noon?").locator(".reaction")
    expect(mine).to_have_text("👍 2")
    expect(mine).to_have_attribute("aria-pressed", "true")
    mine.click()  # take mine back
    expect(message(pb, "lunch at noon?").locator(".reaction")).to_have_text("👍 1")


def test_edit_and_delete_are_in_the_menu_of_ones_own_messages(
    daphne, login_page, make_user, lobby
):
    """No Edit or Delete button sits on a message; the menu of one's own has
    them (in Chinese here); Escape closes it and focus returns to its button."""
    server = daphne()
    ann = make_user("ann")
    page = login_page(server, ann, **ZH)
    page.goto("/chat/lobby/")
    send(page, "tpyo")
    mine = page.locator(".chat-msg").first
    expect(mine.locator(".msg-body")).to_have_text("tpyo")
    expect(mine.get_by_role("button", name="编辑")).to_have_count(0)
    button = mine.get_by_role("button", name="消息操作")
    button.click()
    expect(page.get_by_role("menuitem", name="回复")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(button).to_be_focused()
    button.click()
    page.get_by_role("menuitem", name="编辑").click()
    page.locator("#chat-text").fill("typo")
    page.locator("#chat-text").press("Enter")
    expect(mine.locator(".msg-body")).to_have_text("typo")
    button.click()
    page.get_by_role("menuitem", name="删除").click()
    expect(page.locator(".chat-msg")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_on_a_phone_the_composer_stays_on_screen(
    daphne, login_page, make_user, lobby, language, settings
):
    """At 390x844, in a room with a long topic and history, the message box and
    Send are inside the screen without scrolling, and the newest message is
    visible."""
    server = daphne()
    ann = make_user("ann")
    topic = "Say hello, ask anything, share links and pictures · 打个招呼 随便问问"
    Room.objects.filter(pk=lobby.pk).update(topic=topic * 2)  # three lines or so
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 100}  # for the history
    for n in range(40):
        in_thread(service.post_message, lobby.pk, ann, f"message {n}")
    options = {**PHONE, **(ZH if language != "en" else {})}
    page = login_page(server, ann, **options)
    page.goto("/chat/lobby/")
    expect(message(page, "message 39")).to_be_in_viewport()
    for target in ("#chat-text", "#chat-send"):
        box = page.locator(target).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, (target, box)
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_replies_reactions_unread_and_an_open_menu_pass_axe(
    daphne, login_page, make_user, lobby, language
):
    """axe finds nothing on a room with a reply, reactions, the new-since line
    and an open message menu, nor on the room list with an unread count."""
    server = daphne()
    ann, bob = make_user("ann"), make_user("bob")
    first = post(lobby, ann, "lunch?")
    in_thread(service.mark_read, lobby, ann, first.seq)
    in_thread(partial(service.react, lobby.pk, bob, first.pk, "👍", add=True))
    in_thread(partial(service.post_message, lobby.pk, bob, "yes", reply_to=first.pk))
    options = ZH if language != "en" else {}
    page = login_page(server, ann, **options)
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto("/chat/")
    expect(page.locator(".unread-count")).to_be_visible()
    found = axe(page)
    page.goto("/chat/lobby/")
    expect(page.locator(".chat-new-marker")).to_be_visible()
    expect(page.locator(".msg-quote")).to_be_visible()
    expect(page.locator(".reaction")).to_be_visible()
    page.locator(".msg-menu-button").last.click()
    expect(page.get_by_role("menu")).to_be_visible()
    found += axe(page)
    assert found == [] and errors == [], (found, errors)


def axe(page) -> list:
    page.add_script_tag(path=AXE)
    return page.evaluate(RUN_AXE, TAGS)
