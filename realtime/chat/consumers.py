"""Chat sockets: one room (``/ws/chat/<slug>/``) and the room list (``/ws/chat/``)."""

import time
import uuid

from channels.db import database_sync_to_async as db
from django.conf import settings
from django.utils.translation import gettext as _

from realtime.chat import protocol as proto
from realtime.chat import service
from realtime.chat.flood import Flooded
from realtime.chat.models import Room
from realtime.chat.presence import page as presence_page
from realtime.chat.presence import room_presence
from realtime.core import fanout
from realtime.core.dbthreads import reads
from realtime.core.envelope import (
    CloseCode,
    ErrorCode,
    ProtocolError,
    close_reason,
    encode,
    int_field,
    text_field,
)
from realtime.core.presence import get_presence
from realtime.core.shared import SharedReads
from realtime.core.sockets import JsonSocket

# A crowd joining at once shares one read of the room's latest messages. A
# joiner whose snapshot is a moment old loses nothing: a frame published
# since arrives live, or after a hole that the outbox replays.
_snapshots = SharedReads(0.25)
# A socket's first chat.join uses the ban, mute and read mark read when it
# opened, within this many seconds (a mute since is enforced on the post).
STANDING_FRESH = 1.0
# It shares one read of the room's row too. The row changes in the admin only,
# whose "close" and "access" events make the room's sockets forget that read.
_rooms = SharedReads(0.25)


async def shared_snapshot(room_id: int) -> dict:
    return await _snapshots.get(room_id, lambda: reads(service.snapshot)(room_id))


# After a restart the room's clients come back with the same last seq: one
# replay read per room and seq (ChatSocket._replay).
_replays = SharedReads(0.25)

# After a layer outage every socket of a room replays the same gap at once:
# one read per room and seq, started after each socket's replay began.
_gap_reads = SharedReads(0.25)


def gap_read(room_id: int, after: int) -> tuple[list[dict] | None, dict | None]:
    """The room's frames after ``after``, or (None, a snapshot) for a reset."""
    replay = service.events_after(room_id, after)
    return replay, service.snapshot(room_id) if replay is None else None


# Until a client says where it stopped (chat.join), no stream frame reaches it.
NOTHING_YET = 2**62
fanout.register_format(proto.PLAIN_FORMAT, proto.plain_line)


class ChatSocket(JsonSocket):
    """One room: history and resume on ``chat.join``, then the live stream."""

    async def websocket_connect(self, message):
        """Pick the subprotocol first: it decides the outbox's wire format."""
        self.subprotocol = proto.choose_subprotocol(self.scope.get("subprotocols", []))
        self.plain = self.subprotocol == proto.PLAIN
        self.wire_format = proto.PLAIN_FORMAT if self.plain else "json"
        self.conn_id = None
        await super().websocket_connect(message)

    async def connect(self):
        """Refuse what the user may not open; else follow the room, join presence."""
        self.user = self.scope["user"]
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room = await _rooms.get(slug, lambda: reads(service.room_by_slug)(slug))
        problem, standing = await reads(service.enter_room)(room, self.user)
        # The first chat.join follows at once: it reuses this standing.
        self.standing = (time.monotonic(), standing)
        if problem is not None:
            await self.refuse(problem[0], close_reason(problem[1]))
            return
        self.room = room
        self.typed_at = 0.0
        await self.accept(self.subprotocol)
        self.outbox.start_stream(room.stream, floor=NOTHING_YET)
        await self.follow(room.stream)
        self.followed_at = time.monotonic()
        await self._presence_join()
        if self.plain:  # no hello frame in plain text: join at once
            await self.on_join({})

    def handlers(self):
        return {
            "chat.join": self.on_join,
            "chat.send": self.on_send,
            "chat.edit": self.on_edit,
            "chat.delete": self.on_delete,
            "chat.typing": self.on_typing,
            "chat.history": self.on_history,
            "chat.who": self.on_who,
            "chat.react": self.on_react,
            "chat.read": self.on_read,
        }

    def decode(self, text_data, bytes_data):
        """In plain text every frame is a message: a chat.send of its text."""
        if not self.plain:
            return super().decode(text_data, bytes_data)
        if text_data is None:
            raise ProtocolError(ErrorCode.BINARY_UNSUPPORTED, _("Send text frames."))
        if len(text_data) > settings.DUPLEX["MAX_FRAME_BYTES"]:
            raise ProtocolError(ErrorCode.TOO_BIG, _("The frame is too big."))
        return {"type": "chat.send", "text": text_data}

    async def send_json(self, content):
        """Plain-text sockets get their own rendering of our frames, or nothing."""
        if self.plain:
            line = proto.plain_line(content)
            if line is not None:
                self.outbox.put_text(line)
            return
        await super().send_json(content)

    # Client frames.

    async def on_join(self, frame):
        """Send history, or the gap since ``after``, ahead of any live frame."""
        after = proto.after_field(frame)
        stream = self.room.stream
        async with self.outbox.holding():
            self.outbox.start_stream(stream, floor=after)
            replay = None
            if after:
                replay = await self._replay(after)
            if replay is not None:
                frames, mode, last = replay, "replay", max([after, *self._seqs(replay)])
            else:
                snap = await shared_snapshot(self.room.pk)
                kind = "chat.reset" if after else "chat.history"
                frames, mode, last = (
                    [self.replying({"type": kind, **snap})],
                    kind[5:],
                    snap["last_seq"],
                )
                self.outbox.start_stream(stream, floor=last)
            joined = await self._joined_frame(mode, last)
            self._put_first(stream, [self.replying(joined), *frames])

    async def on_send(self, frame):
        """Store a message; with a ``cid`` or a ``ref``, acknowledge it."""
        text = text_field(frame, "text", max_length=proto.MAX_TEXT)
        cid = proto.cid_field(frame)
        reply_to = proto.reply_field(frame)
        try:
            message = await db(service.post_message)(
                self.room.pk, self.user, text, cid=cid, reply_to=reply_to
            )
        except Flooded as exc:
            if exc.abuse:
                await self.close(CloseCode.POLICY_VIOLATION)
                return
            raise
        if cid or frame.get("ref") is not None:
            ack = {"type": "chat.ack", "cid": cid or None, "id": message.pk}
            await self.send_json({**ack, "seq": message.seq})

    async def on_edit(self, frame):
        message_id = proto.id_field(frame)
        text = text_field(frame, "text", max_length=proto.MAX_TEXT, min_length=0)
        await db(service.edit_message)(self.room.pk, self.user, message_id, text)

    async def on_delete(self, frame):
        message_id = proto.id_field(frame)
        await db(service.delete_message)(message_id, self.user, room_id=self.room.pk)

    async def on_react(self, frame):
        """Add or take back an emoji; everyone gets the message's new counts."""
        message_id, emoji, add = proto.react_request(frame)
        try:
            await db(service.react)(self.room.pk, self.user, message_id, emoji, add=add)
        except Flooded as exc:
            if exc.abuse:
                await self.close(CloseCode.POLICY_VIOLATION)
                return
            raise

    async def on_read(self, frame):
        """Move the reader's mark; their room lists get the new unread count."""
        if not self.user.is_authenticated:
            raise ProtocolError(
                ErrorCode.UNAUTHENTICATED, _("Log in to keep read marks.")
            )
        seq = int_field(frame, "seq", minimum=1)
        await db(service.mark_read)(self.room, self.user, seq)

    async def on_typing(self, frame):
        """Relay "X is typing" (ephemeral), at most once per CHAT_TYPING_EVERY."""
        if not self.user.is_authenticated:
            raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to post."))
        now = time.monotonic()
        if now - self.typed_at < settings.DUPLEX["CHAT_TYPING_EVERY"]:
            return
        self.typed_at = now
        user = service.user_ref(self.user)
        await fanout.apublish(self.room.stream, {"type": "chat.typing", "user": user})

    async def on_history(self, frame):
        before, size = proto.history_request(frame)
        page = await db(service.earlier)(self.room.pk, before, size)
        await self.send_json({"type": "chat.history", **page})

    async def on_who(self, frame):
        """A page of the room's members (``offset``), and the exact count."""
        offset = int_field(frame, "offset", minimum=0, default=0)
        members = await room_presence().members(self.room.place)
        await self.send_json(presence_page(members, offset))

    # Fan-out hooks.

    async def fanout_gap(self, topic, after_seq):
        """This socket fell behind a burst, or the layer lost frames: replay the
        gap (or reset) in order."""
        if after_seq >= NOTHING_YET:
            return  # not joined yet: its chat.join reads the store
        room_id = self.room.pk
        replay, snap = await _gap_reads.get(
            (room_id, after_seq),
            lambda: db(gap_read)(room_id, after_seq),
            not_before=self.outbox.replay_since,
        )
        if replay is None:
            self.outbox.start_stream(topic, floor=snap["last_seq"])
            replay = [{"type": "chat.reset", **snap}]
        self._put_first(topic, replay)

    async def fanout_control(self, topic, event):
        """Moderation from the admin, in whichever process it ran."""
        kind, mine = event.get("type"), event.get("user_id") == self.user.pk
        if kind in ("close", "access"):  # the room's row changed: read it again
            _rooms.forget(self.room.slug)
        if kind == "close":
            await self.close(CloseCode.ROOM_CLOSED, close_reason(event["reason"]))
        elif kind == "ban" and mine:
            reason = event.get("reason") or "You were banned from this room."
            await self.close(CloseCode.BANNED, close_reason(reason))
        elif kind == "mute" and mine:
            frame = {"type": "chat.muted", "until": event["until"]}
            await self.send_json({**frame, "reason": event.get("reason", "")})
        elif kind == "access":
            problem = await self._recheck()
            if problem is not None:
                await self.close(problem[0], close_reason(problem[1]))

    async def disconnect(self, code):
        if self.conn_id is not None:
            await get_presence().leave(self.room.place, self.conn_id, check=False)
            room_presence().changed(self.room)

    # Helpers.

    @staticmethod
    def _seqs(frames):
        return [f["seq"] for f in frames]

    def _put_first(self, topic, frames) -> None:
        """Queue frames ahead of held live ones; mark their seqs as sent."""
        window = self.outbox.windows[topic]
        texts = []
        for frame in frames:
            if "seq" in frame and not window.add(frame["seq"]):
                continue  # already sent live
            texts.extend(self._texts(frame))
        for text in texts:
            self.outbox.put_replayed(topic, None, text)

    def _texts(self, frame) -> list[str]:
        if not self.plain:
            return [encode(frame)]
        if frame["type"] in ("chat.history", "chat.reset"):
            frame_list = [{"type": "chat.message", **m} for m in frame["messages"]]
        else:
            frame_list = [frame]
        return [line for f in frame_list if (line := proto.plain_line(f)) is not None]

    async def _joined_frame(self, mode: str, last: int) -> dict:
        standing = self._fresh_standing()
        if standing is None:
            standing = await reads(service.read_standing)(self.room.pk, self.user)
        muted, until, _reason = service.muted_until(self.room.pk, self.user, standing)
        presence = presence_page(await room_presence().members(self.room.place))
        return {
            "type": "chat.joined",
            "room": service.room_info(self.room),
            "you": service.user_ref(self.user),
            "muted_until": until if muted else None,
            "members": presence["members"],
            "online": presence["online"],
            "last_seq": last,
            "last_read": standing.read,
            "resume": mode,
        }

    async def _replay(self, after: int) -> list[dict] | None:
        """The room's frames after ``after`` (None: too far back, a reset),
        read once for every socket resuming from the same seq within 0.25 s,
        by a read that began after this socket followed the room: whatever it
        misses was published later, and reaches the socket live."""
        room_id = self.room.pk
        replay, unpublished = await _replays.get(
            (room_id, after),
            lambda: reads(service.replay_after)(room_id, after),
            not_before=self.followed_at,
        )
        if unpublished:  # a crashed writer's leftovers: publish them, in order
            await db(service.publish_pending)(room_id)
        return replay

    def _fresh_standing(self):
        """The standing read with the room at connect, once, if under
        STANDING_FRESH old; else None (read it again)."""
        read_at, standing = self.standing
        self.standing = (0.0, None)
        if time.monotonic() - read_at > STANDING_FRESH:
            return None
        return standing

    async def _recheck(self):
        room = await db(Room.objects.get)(pk=self.room.pk)
        return await db(service.refusal)(room, self.user)

    async def _presence_join(self) -> None:
        if not self.user.is_authenticated:
            return
        self.conn_id = uuid.uuid4().hex
        name = self.user.get_username()
        place = self.room.place
        await get_presence().join(place, self.conn_id, self.user.pk, name, check=False)
        room_presence().changed(self.room)


class ChatLobbySocket(JsonSocket):
    """The room list: a snapshot of online counts, then each change (conflated);
    for a logged-in reader also their unread counts, kept current."""

    async def connect(self):
        await self.accept()
        await self.follow(proto.LOBBY_TOPIC)
        self.user = self.scope["user"]
        self.rooms = {}  # activity topic -> room, for a logged-in reader
        rooms = await db(_visible_rooms)(self.user)
        presence = get_presence()
        counts = [
            {
                "type": "chat.room",
                "slug": r.slug,
                "online": await presence.count(r.place),
            }
            for r in rooms
        ]
        await self.send_json({"type": "chat.rooms", "rooms": counts})
        if self.user.is_authenticated:
            await self._follow_unread(rooms)

    async def _follow_unread(self, rooms) -> None:
        """Follow each room's activity, then count from one seq per room: what
        came meanwhile is held, and the windows drop what the count covers."""
        self.rooms = {proto.activity_topic(r.slug): r for r in rooms}
        async with self.outbox.holding():
            await self.follow(proto.reads_topic(self.user.pk))
            for topic in self.rooms:
                self.outbox.start_stream(topic, floor=0)
                await self.follow(topic)
            states = await db(_unread_states)(rooms, self.user.pk)
            for state in states:
                self.outbox.start_stream(
                    proto.activity_topic(state["room"]), floor=state["last_seq"]
                )
            frame = {"type": "chat.unreads", "rooms": states}
            self.outbox.put_replayed(proto.LOBBY_TOPIC, None, encode(frame))

    async def fanout_gap(self, topic, after_seq):
        """Activity was lost (a slow socket, a layer outage): count again."""
        room = self.rooms.get(topic)
        if room is None:
            return
        state = await db(service.unread_state)(room, self.user.pk)
        self.outbox.start_stream(topic, floor=state["last_seq"])
        self.outbox.put_replayed(topic, None, encode(state))


def _visible_rooms(user) -> list[Room]:
    return [r for r in Room.objects.filter(closed=False) if service.can_read(r, user)]


def _unread_states(rooms, user_id: int) -> list[dict]:
    return [service.unread_state(room, user_id) for room in rooms]
