"""Moderation actions leave one structured log line each: what, where, on whom."""

import json
import logging

import pytest

from realtime.chat import service as chat_service
from realtime.chat.models import Ban, Room
from realtime.core.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def test_ban_and_close_are_logged_as_moderation_events(caplog, make_user):
    """A ban names room and target; closing a room names the room."""
    room = Room.objects.create(slug="lobby", name="Lobby")
    troll = make_user("troll")
    caplog.set_level(logging.INFO, logger="realtime.chat.service")
    chat_service.notify_ban(Ban.objects.create(room=room, user=troll, reason="spam"))
    chat_service.close_room(room, "closing time")
    events = [r for r in caplog.records if getattr(r, "event", None) == "moderation"]
    assert [(r.getMessage(), r.room, r.target) for r in events] == [
        ("moderation: ban", "lobby", troll.pk),
        ("moderation: close room", "lobby", None),
    ]
    line = json.loads(JsonFormatter().format(events[0]))
    assert line["event"] == "moderation" and line["target"] == troll.pk
    assert "spam" not in json.dumps(line)  # the reason is not logged
