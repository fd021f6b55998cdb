"""Search within a room: what it finds, its pages and bounds, and who may."""

import pytest

from realtime.chat import service
from realtime.chat.models import Ban, Room
from tests.chat_helpers import post

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def found(client, room, query, **params):
    answer = client.get(f"/chat/{room.slug}/search/", {"q": query, **params}, **JSON)
    return answer.status_code, answer.json()


def test_it_finds_text_case_blind_newest_first_in_this_room_only(client, lobby, ann):
    """Latin case-blind, Chinese, LIKE wildcards literal; deleted and other
    rooms' messages are not found."""
    other = Room.objects.create(slug="other", name="Other")
    post(lobby, ann, "Hello World")
    post(lobby, ann, "hello 你好 100%")
    gone = post(lobby, ann, "hello gone")
    service.delete_message(gone.pk, moderator=True)
    post(other, ann, "hello elsewhere")
    status, body = found(client, lobby, "HELLO")
    assert status == 200
    assert [m["text"] for m in body["results"]] == ["hello 你好 100%", "Hello World"]
    assert found(client, lobby, "你好")[1]["results"][0]["text"] == "hello 你好 100%"
    assert [m["text"] for m in found(client, lobby, "0%")[1]["results"]] == [
        "hello 你好 100%"
    ]
    assert found(client, lobby, "_")[1]["results"] == []
    context = client.get(body["results"][1]["url"]).content.decode()
    assert "Hello World" in context and "hello 你好 100%" in context


def test_results_come_twenty_a_page_by_seq(client, lobby, ann, settings):
    """45 matches: 20, 20 and 5, each page naming the next one's start."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 1000}
    for i in range(45):
        post(lobby, ann, f"match {i}")
    texts, before = [], None
    for size in (20, 20, 5):
        params = {"before": before} if before else {}
        body = found(client, lobby, "match", **params)[1]
        assert len(body["results"]) == size
        texts += [m["text"] for m in body["results"]]
        before = body["next_before"]
    assert before is None and texts == [f"match {i}" for i in reversed(range(45))]


def test_queries_are_bounded(client, lobby):
    """Empty: invalid (400); over 100 characters: too_big (413)."""
    assert found(client, lobby, "  ") == (
        400,
        {"type": "error", "code": "invalid", "detail": "Type something to search for."},
    )
    status, body = found(client, lobby, "x" * 101)
    assert status == 413 and body["code"] == "too_big"


def test_only_readers_of_the_room_search_it(client, login, ann, bob, lobby):
    """A private room: members yes, others 404; a ban: 403; a public room:
    visitors too."""
    secret = Room.objects.create(slug="secret", name="Secret", is_public=False)
    secret.members.add(ann)
    post(secret, ann, "plans")
    assert found(login(ann), secret, "plans")[0] == 200
    assert found(login(bob), secret, "plans")[0] == 404
    assert found(client, secret, "plans")[0] == 404
    post(lobby, ann, "plans in public")
    assert found(client, lobby, "plans")[0] == 200
    Ban.objects.create(room=lobby, user=bob, reason="Spam")
    assert found(login(bob), lobby, "plans")[0] == 403


def test_the_results_page_works_without_javascript(client, lobby, ann):
    """The form's GET answers a page with the found message and its link."""
    message = post(lobby, ann, "needle here")
    page = client.get("/chat/lobby/search/", {"q": "needle"}).content.decode()
    assert "needle here" in page
    assert f'href="/chat/lobby/messages/{message.seq}/"' in page
    none = client.get("/chat/lobby/search/", {"q": "hay"}).content.decode()
    assert "No message here contains “hay”." in none
