"""A game's chat: stored, so a spectator who arrives late reads what was said."""

from realtime.core.envelope import user_ref
from realtime.game.models import ChatLine

HISTORY = 50  # lines a socket gets on arrival


def _event(line: ChatLine) -> dict:
    return {
        "type": "game.chat",
        "id": line.pk,
        "user": user_ref(line.user),
        "role": line.role,
        "text": line.text,
        "at": line.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def say(game_id: int, user, role: str, text: str) -> dict:
    """Store a line; the ``game.chat`` event to publish."""
    return _event(
        ChatLine.objects.create(game_id=game_id, user=user, role=role, text=text)
    )


def history(game_id: int) -> dict:
    """The last lines, oldest first, as one ``game.chat_history`` frame."""
    lines = ChatLine.objects.filter(game_id=game_id).select_related("user")
    recent = reversed(lines.order_by("-id")[:HISTORY])
    return {"type": "game.chat_history", "lines": [_event(line) for line in recent]}
