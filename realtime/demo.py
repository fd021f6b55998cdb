"""Demo data: what each feature needs to be alive on a fresh database.

Each feature adds a seeding function to ``SEEDERS``; every one is idempotent,
so ``manage.py demo_data`` can run on every start.
"""

from collections.abc import Callable

SEEDERS: list[Callable[[], str]] = []


def seed_chat() -> str:
    """Three rooms: two public (one with a Chinese name), one private."""
    from realtime.models.chat import Room

    rooms = [
        ("lobby", "Lobby · 大厅", "Say hello. Be kind.", True),
        ("tech", "技术讨论", "WebSocket, Channels and daphne", True),
        ("staff", "Staff room", "Members only", False),
    ]
    for slug, name, topic, public in rooms:
        Room.objects.get_or_create(
            slug=slug, defaults={"name": name, "topic": topic, "is_public": public}
        )
    return f"Chat: {Room.objects.count()} rooms (/chat/)."


SEEDERS.append(seed_chat)
