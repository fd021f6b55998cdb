"""Chat's ordered publishing and flood control, under faults and crowds."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import channel_layers
from django.core.cache import cache

from project.config import redis_channel_layer
from realtime.chat import flood, publishing, service
from realtime.chat.models import Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(lobby, ann):
    service.post_message(lobby.pk, ann, "hello")  # unpublished yet
    return lobby


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

    monkeypatch.setattr(publishing, "render_event", broken)
    with caplog.at_level(logging.WARNING, logger="realtime.chat.service"):
        service.publish_pending(lobby.pk)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "will retry" not in record.getMessage()
    assert published(lobby) == 0


def concurrent_posts(user_id: int, count: int) -> int:
    """``count`` threads pass the flood check at once; how many were let through."""
    start = threading.Barrier(count)

    def attempt(_):
        start.wait()
        try:
            flood.check_flood(user_id)
        except flood.Flooded:
            return False
        finally:
            cache.close()
        return True

    with ThreadPoolExecutor(count) as pool:
        return sum(pool.map(attempt, range(count)))


def test_concurrent_posts_never_exceed_the_users_burst(redis_cache, settings):
    """Posts racing from many workers at once share one allowance in Redis."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 3, "CHAT_RATE": 0.01}
    allowed = [concurrent_posts(user_id, 24) for user_id in range(1, 9)]
    assert allowed == [3] * 8


def test_without_redis_each_process_keeps_the_burst_itself(
    private_redis, settings, caplog
):
    """The cache is down: posts are still limited, by this process's bucket."""
    redis = private_redis()
    redis.stop()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis.url,
        }
    }
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 3, "CHAT_RATE": 0.01}
    for _ in range(3):
        flood.check_flood(424242)
    with pytest.raises(flood.Flooded):
        flood.check_flood(424242)
    assert "falls back to this process" in caplog.text
