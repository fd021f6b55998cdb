"""The frame checker (tests/frames.py) catches each kind of drift it is there for."""

import pytest

from tests.frames import check_frame, server_frames

GOOD_TYPING = {"type": "chat.typing", "user": {"id": 1, "name": "ann"}}


def fails(frame) -> str:
    with pytest.raises(AssertionError) as caught:
        check_frame(frame)
    return str(caught.value)


def test_a_frame_matching_its_typeddict_passes():
    check_frame(GOOD_TYPING)
    check_frame({"type": "error", "code": "invalid", "detail": "No."})


def test_a_missing_required_key_fails():
    assert "requires 'user'" in fails({"type": "chat.typing"})


def test_an_unknown_key_fails():
    assert "no key 'colour'" in fails({**GOOD_TYPING, "colour": "red"})


def test_a_value_of_the_wrong_type_fails_nested_ones_too():
    assert "chat.typing.user.id" in fails(
        {**GOOD_TYPING, "user": {"id": "1", "name": "a"}}
    )
    assert "chat.typing.user" in fails({**GOOD_TYPING, "user": None})
    assert "expected int, got True" in fails(
        {"type": "chat.room", "slug": "lobby", "online": True}
    )


def test_literals_lists_and_unions_are_checked():
    page = {"type": "chat.history", "messages": [], "has_more": False}
    check_frame(page)
    assert "messages" in fails({**page, "messages": [{"id": 1}]})
    start = {"type": "scores.snapshot", "matches": []}
    check_frame(start)
    assert "none of" in fails(
        {"type": "notifications.new", "seq": 1, "notification": {"kind": "spam"}}
    )


def test_a_frame_type_no_typeddict_declares_fails():
    assert "no TypedDict declares the frame type 'chat.shout'" in fails(
        {"type": "chat.shout"}
    )
    assert "no TypedDict declares" in fails(["not", "an", "object"])


def test_client_frames_are_not_taken_for_server_frames():
    """``chat.typing`` from a client has no user; the server's one must have it."""
    assert server_frames()["chat.typing"].__name__ == "TypingEvent"
    assert server_frames()["game.move"].__name__ == "MovedFrame"
