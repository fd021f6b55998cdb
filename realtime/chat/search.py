"""Search within one room, and a message in its context.

Only for readers of the room (``views`` checks ``refusal`` first). Matching is
``icontains``: a case-insensitive substring, which PostgreSQL runs as
``UPPER(text) LIKE UPPER(%q%)`` and SQLite as ``LIKE`` (case-insensitive for
ASCII; Chinese has no case). No index serves it: a page walks the room's
messages newest first (the ``room, seq`` index) until it has ``PAGE_SIZE``
matches, so a query's cost is bounded by the room, and its length and page
size are capped. Pages go by seq (``before``), never by offset.
"""

import re

from django.utils.translation import gettext as _

from realtime.chat.models import Message, Room
from realtime.chat.selectors import message_data
from realtime.core.envelope import ErrorCode, ProtocolError

MAX_QUERY = 100  # characters of a search
PAGE_SIZE = 20  # results per page
CONTEXT = 10  # messages shown before and after a found one

_SPACES = re.compile(r"\s+")


def clean_query(raw: str) -> str:
    """The query with its spaces collapsed; refused when empty or too long."""
    query = _SPACES.sub(" ", raw or "").strip()
    if not query:
        raise ProtocolError(ErrorCode.INVALID, _("Type something to search for."))
    if len(query) > MAX_QUERY:
        detail = _("A search is at most %(n)d characters.") % {"n": MAX_QUERY}
        raise ProtocolError(ErrorCode.TOO_BIG, detail)
    return query


def search(room: Room, query: str, before: int | None = None) -> dict:
    """One page of the room's live messages containing ``query``, newest first."""
    found = Message.objects.filter(
        room=room, deleted_at__isnull=True, text__icontains=query
    )
    if before is not None:
        found = found.filter(seq__lt=before)
    rows = list(found.order_by("-seq")[: PAGE_SIZE + 1])
    page = rows[:PAGE_SIZE]
    more = len(rows) > PAGE_SIZE
    return {
        "query": query,
        "results": [message_data(m) for m in page],
        "has_more": more,
        "next_before": page[-1].seq if more else None,
    }


def around(room: Room, seq: int) -> dict | None:
    """The live message at ``seq`` with up to CONTEXT messages each side."""
    visible = Message.objects.filter(room=room, deleted_at__isnull=True)
    target = visible.filter(seq=seq).first()
    if target is None:
        return None
    earlier = list(visible.filter(seq__lt=seq).order_by("-seq")[:CONTEXT])
    later = list(visible.filter(seq__gt=seq).order_by("seq")[:CONTEXT])
    messages = [*reversed(earlier), target, *later]
    return {"target": target.pk, "nearby": [message_data(m) for m in messages]}
