"""Site-wide announcements: ``/ws/site/``, opened by every page.

Server -> client only; a client frame other than ``ping`` is ``unknown_type``.
"""

from typing import Literal, TypedDict

TOPIC = "site.announcements"
MAX_ANNOUNCEMENT = 500


class AnnouncementFrame(TypedDict):
    type: Literal["site.announcement"]
    text: str
    at: str  # ISO 8601


def announcement(text: str, at: str) -> AnnouncementFrame:
    return {"type": "site.announcement", "text": text[:MAX_ANNOUNCEMENT], "at": at}
