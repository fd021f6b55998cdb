"""Room presence for crowds: who is here, at a cost that does not grow with
the room.

A join or a leave only marks its room changed. Once per ``CHAT_PRESENCE_EVERY``
(1 s) each process reads the room's members once and publishes one
``chat.presence`` diff (who came, who went, how many are here), however many
joined meanwhile: a storm of joins costs every member a frame per interval,
not a frame per join (Phoenix's ``presence_diff`` does the same). Rooms of up
to ``MAX_MEMBERS_SHOWN`` carry their member list in each diff; larger ones
carry the count, and the list comes on demand, a page at a time (``chat.who``).

Member lists are read at most once per ``MEMBERS_FRESH`` seconds per room and
process, so a thousand joiners share one read for their ``chat.joined``.

A diff goes to every member, so a room larger than ``MAX_MEMBERS_SHOWN`` gets
its diffs less often, in proportion to its size (up to ``LONGEST_EVERY``): a
room of 5,000 hears of its comings and goings every 25 s, and presence costs
each process about ``MAX_MEMBERS_SHOWN`` frames per interval whatever the
room's size. A joiner's own ``chat.joined`` always has the count of the moment.
"""

import asyncio
import logging

from django.conf import settings

from realtime.chat import protocol as proto
from realtime.core import fanout
from realtime.core.outages import SERVICE_ERRORS
from realtime.core.perloop import PerLoop
from realtime.core.presence import get_presence, members_from_thread
from realtime.core.shared import SharedReads

log = logging.getLogger(__name__)

MAX_MEMBERS_SHOWN = 200  # members listed in a frame; larger rooms page
MAX_DIFF = 50  # joins (and leaves) named in one diff; the count is always exact
MEMBERS_FRESH = 0.5  # seconds a member list read is shared
LONGEST_EVERY = 30.0  # seconds: the longest interval between two diffs
_member_reads = SharedReads(MEMBERS_FRESH)


class RoomPresence:
    """One per event loop: coalesced diffs and shared member reads."""

    def __init__(self):
        self.known: dict[str, dict[int, str]] = {}  # place -> members at last diff
        self.pending: dict[str, asyncio.Task] = {}
        self.counts: dict[str, int] = {}  # place -> online count last published

    async def members(self, place: str) -> list[dict]:
        """The place's members, read once for every caller within MEMBERS_FRESH."""
        return await _member_reads.get(place, lambda: get_presence().members(place))

    def changed(self, room) -> None:
        """Someone came or went: a diff goes out within the interval."""
        place = room.place
        if place not in self.pending:
            self.pending[place] = asyncio.ensure_future(self._diff_later(room))

    def interval(self, place: str) -> float:
        """Seconds until the place's next diff: longer for a larger room."""
        every = settings.DUPLEX["CHAT_PRESENCE_EVERY"]
        size = len(self.known.get(place) or ())
        return min(max(every, every * size / MAX_MEMBERS_SHOWN), LONGEST_EVERY)

    def _done(self, place: str) -> None:
        """This task no longer stands for the place's next diff; a later
        change's task, which may be waiting already, stays in place."""
        if self.pending.get(place) is asyncio.current_task():
            del self.pending[place]

    async def _diff_later(self, room) -> None:
        place = room.place
        known = self.known.get(place)
        try:
            await asyncio.sleep(self.interval(place))
            self._done(place)  # changes from now on make a new diff
            _member_reads.forget(place)
            members = await self.members(place)
            known = self.known.get(place)
            frame = self._diff(place, members)
            if frame is not None:
                await fanout.apublish(room.stream, frame)
            online = len(members)
            # Private rooms' counts stay off the shared room list.
            if room.is_public and self.counts.get(place) != online:
                count = {"type": "chat.room", "slug": room.slug, "online": online}
                await fanout.apublish(proto.LOBBY_TOPIC, count, key=room.slug)
                self.counts[place] = online
        except SERVICE_ERRORS as exc:
            # The layer is down (Redis restarting, a failover): the next
            # change's diff is taken from what was last published.
            self._done(place)
            self._restore(place, known)
            log.warning("Presence diff of %s not sent (%s)", place, exc)
        except Exception:
            self._done(place)
            log.exception("Presence diff of %s failed", place)

    def _restore(self, place: str, known: dict | None) -> None:
        if known is None:
            self.known.pop(place, None)
        else:
            self.known[place] = known

    def _diff(self, place: str, members: list[dict]) -> dict | None:
        """What changed since this process' last diff of the place. Applied
        to any list a socket was given since, it gives the list now (clients
        add and remove idempotently; rooms of up to 200 get the full list)."""
        now = {m["id"]: m["name"] for m in members}
        before = self.known.get(place, {})
        self.known[place] = now
        joins = [{"id": i, "name": n} for i, n in now.items() if i not in before]
        leaves = [{"id": i, "name": n} for i, n in before.items() if i not in now]
        if not joins and not leaves:
            return None
        frame = {
            "type": "chat.presence",
            "event": "diff",
            "joins": joins[:MAX_DIFF],
            "leaves": leaves[:MAX_DIFF],
            "online": len(members),
        }
        if len(members) <= MAX_MEMBERS_SHOWN:
            frame["members"] = members
        return frame


def page(members: list[dict], offset: int = 0) -> dict:
    """A ``chat.presence`` list frame: one page of members and the exact count."""
    return {
        "type": "chat.presence",
        "event": "list",
        "members": members[offset : offset + MAX_MEMBERS_SHOWN],
        "online": len(members),
        "offset": offset,
    }


_rooms = PerLoop(RoomPresence)


def room_presence() -> RoomPresence:
    return _rooms.get()


async def online_ids(place: str) -> set[int]:
    """The ids of the users in a place now, from the shared member read."""
    return {member["id"] for member in await room_presence().members(place)}


def online_ids_from_thread(place: str) -> set[int]:
    """The same, for code on the database thread: it does not wait for the
    event loop (``realtime.core.presence.members_from_thread``)."""
    return {member["id"] for member in members_from_thread(place)}
