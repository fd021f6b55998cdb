"""Presence: one member per user, shared through Redis between processes."""

import pytest

from realtime.core import presence as presence_module
from realtime.core.presence import Presence
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def registries(request, settings, redis_prefix):
    """Two registries, as two processes would have (Redis), or one (memory)."""
    if request.param == "redis":
        settings.REDIS_URLS = [REDIS_URL]
        settings.CHANNEL_LAYERS = {"default": {"CONFIG": {"prefix": redis_prefix}}}
        return Presence(), Presence()
    settings.REDIS_URLS = []
    one = Presence()
    return one, one


async def test_a_user_with_several_sockets_is_one_member(registries):
    """Two tabs of one user make one member; they go offline with the last tab."""
    a, b = registries
    assert await a.join("chat.lobby", "c1", 7, "安娜") is True
    assert await b.join("chat.lobby", "c2", 7, "安娜") is False
    assert await a.members("chat.lobby") == [{"id": 7, "name": "安娜"}]
    assert await a.leave("chat.lobby", "c1") is False
    assert await b.members("chat.lobby") == [{"id": 7, "name": "安娜"}]
    assert await b.leave("chat.lobby", "c2") is True
    assert await a.members("chat.lobby") == []


async def test_members_are_sorted_by_name_and_places_are_separate(registries):
    """Each place has its own members, listed by name."""
    a, b = registries
    await a.join("chat.lobby", "c1", 1, "zoe")
    await b.join("chat.lobby", "c2", 2, "Adam")
    await b.join("game.lobby", "c3", 3, "kim")
    assert [m["name"] for m in await a.members("chat.lobby")] == ["Adam", "zoe"]
    assert await a.count("game.lobby") == 1


async def test_entries_of_a_dead_process_expire(registries, monkeypatch):
    """Entries nobody renews drop out of every answer after the TTL."""
    a, b = registries
    await a.join("chat.lobby", "c1", 1, "ann")
    clock = presence_module.time.time() + presence_module.TTL + 1
    monkeypatch.setattr(presence_module.time, "time", lambda: clock)
    assert await b.members("chat.lobby") == []


async def test_presence_may_live_on_a_redis_of_its_own(settings, redis_prefix):
    """With REDIS_PRESENCE_URL set, presence uses that server, not the layer's
    first (here one nobody answers on)."""
    settings.REDIS_URLS = ["redis://127.0.0.1:1/0"]
    settings.REDIS_PRESENCE_URL = REDIS_URL
    settings.CHANNEL_LAYERS = {"default": {"CONFIG": {"prefix": redis_prefix}}}
    a, b = Presence(), Presence()
    await a.join("chat.lobby", "c1", 7, "ann")
    assert await b.store.entries("chat.lobby")  # raises if it went to port 1
    await a.leave("chat.lobby", "c1")
