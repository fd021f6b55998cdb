"""The settings page's follow forms refuse what does not exist, in the page, and
the browser parses the room field's pattern (with the ``v`` flag) without error."""

import pytest
from playwright.sync_api import expect

from realtime.models import RoomFollow, UserFollow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}


def settings_page(daphne, make_user, login_page, **options):
    page = login_page(daphne(), make_user("ann"), **options)
    errors = []
    page.on(
        "console", lambda m: m.type in ("error", "warning") and errors.append(m.text)
    )
    page.goto("/notifications/settings/")
    return page, errors


@pytest.mark.parametrize(
    ("options", "refusal"),
    [({}, "There is no user named “nobody”."), (ZH, "没有名为“nobody”的用户。")],
)
def test_following_an_unknown_user_is_a_message_on_the_page(
    daphne, make_user, login_page, options, refusal
):
    """Not Django's 404 page: the settings page again, saying what went wrong."""
    page, _ = settings_page(daphne, make_user, login_page, **options)
    people = page.locator("#follow-users")
    people.locator("input[name=username]").fill("nobody")
    people.get_by_role("button").click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}")
    expect(page.locator(".messages .error")).to_have_text(refusal)
    expect(page.locator("h1")).to_be_visible()
    assert not UserFollow.objects.exists()


def test_an_unknown_room_is_refused_and_a_real_one_followed(
    daphne, make_user, login_page, lobby
):
    """#nowhere is refused in the page; #lobby is followed and listed."""
    page, _ = settings_page(daphne, make_user, login_page)
    rooms = page.locator("#follow-rooms")
    rooms.locator("input[name=slug]").fill("nowhere")
    rooms.get_by_role("button", name="Follow").click()
    expect(page.locator(".messages .error")).to_have_text("There is no room “nowhere”.")
    assert not RoomFollow.objects.exists()
    page.locator("#follow-rooms input[name=slug]").fill("lobby")
    page.locator("#follow-rooms").get_by_role("button", name="Follow").click()
    expect(page.locator("#follow-rooms li").first).to_contain_text("#lobby")
    assert RoomFollow.objects.get().room_slug == "lobby"


def test_the_slug_pattern_is_checked_by_the_browser_without_console_errors(
    daphne, make_user, login_page
):
    """A slug with a space is held back by the browser; good ones, with a hyphen,
    pass; and the console stays quiet (an invalid pattern logs on each check)."""
    page, errors = settings_page(daphne, make_user, login_page)
    field = page.locator("#follow-rooms input[name=slug]")
    validity = "(el) => el.validity.patternMismatch"
    field.fill("two words")
    assert field.evaluate(validity) is True
    for good in ("my-room", "room_2", "-"):
        field.fill(good)
        assert field.evaluate(validity) is False, good
    field.fill("two words")
    page.locator("#follow-rooms").get_by_role("button", name="Follow").click()
    expect(page).to_have_url(page.url)
    assert not RoomFollow.objects.exists()
    assert [text for text in errors if "pattern" in text.lower()] == []
