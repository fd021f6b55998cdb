"""Chat's ordered publishing and flood control, under faults and crowds."""

import logging

import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from project.settings import redis_channel_layer
from realtime.chat import service
from realtime.chat.models import Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(make_user):
    cache.clear()
    room = Room.objects.create(slug="lobby", name="Lobby")
    service.post_message(room.pk, make_user("ann"), "hello")  # unpublished yet
    return room


def published(room) -> int:
    return Room.objects.get(pk=room.pk).published_seq


def test_publishing_during_a_redis_outage_is_a_warning_and_retried(
    lobby, private_redis, settings, caplog
):
    """Redis down: one warning saying it will retry; the event stays pending."""
    redis = private_redis()
    redis.stop()
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer([redis.url], "t")}
    channel_layers.backends.clear()
    with caplog.at_level(logging.WARNING, logger="realtime.chat.service"):
        service.publish_pending(lobby.pk)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "will retry" in record.getMessage()
    assert published(lobby) == 0


def test_a_bug_while_publishing_is_logged_as_an_error_with_its_traceback(
    lobby, monkeypatch, caplog
):
    """Not an outage (here a rendering bug): an error with the traceback, no
    "will retry" that would hide it behind routine warnings."""

    def broken(event, slug):
        raise KeyError("edited_at")

    monkeypatch.setattr(service, "render_event", broken)
    with caplog.at_level(logging.WARNING, logger="realtime.chat.service"):
        service.publish_pending(lobby.pk)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "will retry" not in record.getMessage()
    assert published(lobby) == 0
