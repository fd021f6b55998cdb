"""``/ws/scores/``: a snapshot of the chosen matches, then every change."""

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode, ProtocolError
from realtime.core.sockets import JsonSocket
from realtime.scores import service as scoreboard
from realtime.scores.protocol import (
    MAX_MATCHES,
    MAX_TABLES,
    TOPIC_ALL,
    match_topic,
    read_competition,
    read_matches,
    table_topic,
)


class ScoresSocket(JsonSocket):
    """Anyone may watch; a client subscribes to all matches or to chosen ones."""

    async def connect(self):
        """Open to every visitor: scores are public."""
        await self.accept()

    def handlers(self):
        return {
            "scores.subscribe": self.on_subscribe,
            "scores.unsubscribe": self.on_unsubscribe,
            "scores.standings": self.on_standings,
        }

    async def on_standings(self, frame):
        """Follow one competition's table, then send it as it stands."""
        competition = read_competition(frame)
        topic = table_topic(competition)
        tables = {t for t in self.following if t.startswith("scores.table.")}
        if len(tables | {topic}) > MAX_TABLES:
            raise ProtocolError(
                ErrorCode.TOO_BIG,
                _("Follow at most %(n)d tables at once.") % {"n": MAX_TABLES},
            )
        await self.follow(topic)
        found = await database_sync_to_async(scoreboard.standings_frame)(competition)
        if found is None:
            await self.unfollow(topic)
            raise ProtocolError(ErrorCode.NOT_FOUND, _("No such competition."))
        await self.send_json(found)

    async def on_subscribe(self, frame):
        """Follow first, then read: a change in between arrives twice, never zero."""
        matches = read_matches(frame)
        if matches == "all":
            await self.follow(TOPIC_ALL)
            found = await database_sync_to_async(_todays_states)()
            await self.send_json({"type": "scores.snapshot", "matches": found})
            return
        if len(self.following | {match_topic(i) for i in matches}) > MAX_MATCHES + 1:
            raise ProtocolError(
                ErrorCode.TOO_BIG,
                _("Follow at most %(n)d matches at once.") % {"n": MAX_MATCHES},
            )
        for match_id in matches:
            await self.follow(match_topic(match_id))
        found = await database_sync_to_async(_states_of)(matches)
        missing = sorted(set(matches) - {s["id"] for s in found})
        for match_id in missing:
            await self.unfollow(match_topic(match_id))
        await self.send_json({"type": "scores.snapshot", "matches": found})
        if missing:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, _("No such match: %(id)s.") % {"id": missing}
            )

    async def on_unsubscribe(self, frame):
        """Stop receiving chosen matches, or (``"all"``) everything; no reply."""
        matches = read_matches(frame)
        topics = list(self.following) if matches == "all" else map(match_topic, matches)
        for topic in topics:
            await self.unfollow(topic)


def _todays_states():
    return scoreboard.states(scoreboard.todays_matches())


def _states_of(ids):
    return scoreboard.states(scoreboard.matches_by_id(ids))
