"""``/ws/notifications/``: the logged-in user's own reliable notification stream."""

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from realtime.core.dbthreads import reads
from realtime.core.envelope import (
    CloseCode,
    ErrorCode,
    ProtocolError,
    encode,
    int_field,
)
from realtime.core.sockets import JsonSocket
from realtime.notifications import service as notify
from realtime.notifications.protocol import (
    MAX_GAP_REPLAY,
    MAX_REPLAY,
    RECENT,
    new_frame,
    user_topic,
)


class NotificationSocket(JsonSocket):
    """One per open page; the stream is always the session user's own."""

    async def connect(self):
        """Anonymous visitors are refused: there is nobody to notify."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CloseCode.UNAUTHENTICATED, "Log in to get notifications.")
            return
        self.start_for(user)
        await self.accept()

    def start_for(self, user) -> None:
        """This socket carries ``user``'s stream, from their ``hello`` on."""
        self.user_id = user.pk
        self.topic = user_topic(user.pk)
        self.started = False

    def handlers(self):
        return {
            "notifications.hello": self.on_hello,
            "notifications.read": self.on_read,
            "notifications.read_all": self.on_read_all,
        }

    async def on_hello(self, frame):
        """Start the stream after the client's last seq: state, missed rows, live.
        One read, on a reader thread (realtime/core/dbthreads.py), after the
        socket follows its topic: a notification stored meanwhile is held, then
        sent once, after the rows, or dropped by the window if they hold it."""
        after = int_field(frame, "after", default=0)
        if self.started:
            raise ProtocolError(
                ErrorCode.CONFLICT, _("The stream has already started.")
            )
        self.started = True
        async with self.outbox.holding():
            self.outbox.start_stream(self.topic, floor=after)
            await self.follow(self.topic)
            state, rows = await reads(_snapshot)(self.user_id, after)
            self.outbox.start_stream(self.topic, floor=state["floor"])
            del state["floor"]
            state_frame = self.replying({"type": "notifications.state", **state})
            self.outbox.put_replayed(self.topic, None, encode(state_frame))
            self._replay(rows)

    async def on_read(self, frame):
        """Mark one read; every tab of the user gets the new count."""
        seq = int_field(frame, "seq", minimum=1)
        if not await database_sync_to_async(notify.mark_read)(self.user_id, seq):
            raise ProtocolError(
                ErrorCode.NOT_FOUND, _("No notification %(seq)d.") % {"seq": seq}
            )

    async def on_read_all(self, frame):
        """Mark all read; every tab of the user gets the new count."""
        await database_sync_to_async(notify.mark_read)(self.user_id)

    async def fanout_gap(self, topic, after_seq):
        """This socket fell behind: read what it missed back from the database."""
        rows = await reads(notify.after)(self.user_id, after_seq, MAX_GAP_REPLAY)
        self._replay(rows)

    def _replay(self, rows):
        for row in rows:
            self.outbox.put_replayed(self.topic, row.seq, encode(new_frame(row)))


def _snapshot(user_id: int, after: int):
    """The stream's state and the rows to send after ``after``: all of them, or,
    for a fresh start (or one too far back), the RECENT latest (a reset)."""
    last_seq, unread = notify.stream_state(user_id)
    reset = after == 0 or after > last_seq or last_seq - after > MAX_REPLAY
    floor = max(last_seq - RECENT, 0) if reset else after
    rows = notify.after(user_id, floor, MAX_REPLAY + RECENT)
    state = {"unread": unread, "last_seq": last_seq, "reset": reset}
    return {**state, "floor": floor}, rows
