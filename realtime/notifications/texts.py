"""What a notification says, in the reader's language.

A notification is stored with its ``kind`` and ``params`` (plain values: team
names, a score, a room slug, a price), and is said at read time: the
``/notifications/`` page in the reader's language, the socket's frames in
every language of the site (``texts``), for the page to pick its own. Its
``title`` and ``body`` columns hold the default language's text, for the
admin and for rows stored without params.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def _match(kind: str, p: dict) -> tuple[str, str]:
    score = f"{p['home']} {p['home_score']}-{p['away_score']} {p['away']}"
    if kind == "kick_off":
        title = _("Kick-off: %(home)s - %(away)s") % p
    elif kind == "goal":
        title = _("Goal! %(score)s") % {"score": score}
    else:
        title = _("Full-time: %(score)s") % {"score": score}
    return title, f"{p['competition']} · {p['minute']}'"


def _chat(kind: str, p: dict) -> tuple[str, str]:
    titles = {
        "mention": _("%(author)s mentioned you in #%(room)s"),
        "room": _("New message in #%(room)s"),
        "user": _("%(author)s posted in #%(room)s"),
        "direct": _("%(author)s sent you a direct message"),
    }
    return titles[kind] % p, p["text"]


def _price(kind: str, p: dict) -> tuple[str, str]:
    from realtime.notifications.models import PriceAlert

    above = p["direction"] == PriceAlert.Direction.ABOVE
    title = (
        _("%(symbol)s rose to %(price)s")
        if above
        else _("%(symbol)s fell to %(price)s")
    )
    direction = PriceAlert.Direction(p["direction"]).label
    body = _("Your alert: %(direction)s %(level)s") % {
        "direction": direction,
        "level": p["level"],
    }
    return title % p, body


SAY = {
    "goal": _match,
    "kick_off": _match,
    "full_time": _match,
    "mention": _chat,
    "room": _chat,
    "user": _chat,
    "direct": _chat,
    "price": _price,
}


def say(kind: str, params: dict, fallback: tuple[str, str]) -> tuple[str, str]:
    """(title, body) in the active language; ``fallback`` without params."""
    if not params or kind not in SAY:
        return fallback
    try:
        return SAY[kind](kind, params)
    except (KeyError, TypeError, ValueError):
        return fallback  # params of an older shape: the stored text


def say_in(language: str, kind: str, params: dict, fallback=("", "")):
    with translation.override(language):
        return say(kind, params, fallback)


def shown(n) -> tuple[str, str]:
    """A stored notification's (title, body) in the active language."""
    return say(n.kind, n.params, (n.title, n.body))


def texts(n) -> dict[str, dict[str, str]]:
    """A stored notification in every language of the site."""
    found = {}
    for code, _name in settings.LANGUAGES:
        title, body = say_in(code, n.kind, n.params, (n.title, n.body))
        found[code] = {"title": title, "body": body}
    return found
