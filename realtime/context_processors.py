"""What every page's header needs."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, short description). A feature whose page does not exist
# yet is listed as coming, without a link.
FEATURES = [
    ("echo", _("Echo playground"), _("The WebSocket API and handshake, live.")),
    ("chat", _("Chat rooms"), _("Rooms with history, presence and moderation.")),
    (
        "quotes",
        _("Stock and fund quotes"),
        _("Live prices, next to an Ajax-polling twin."),
    ),
    ("scores", _("Live scores"), _("Matches and their events as they happen.")),
    ("notifications", _("Notifications"), _("Follow teams, prices, rooms and people.")),
    ("game", _("Gomoku"), _("Five in a row against another visitor, live.")),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def site(request):
    features = [
        {"name": name, "label": label, "description": text, "url": _url(name)}
        for name, label, text in FEATURES
    ]
    return {"features": features}
