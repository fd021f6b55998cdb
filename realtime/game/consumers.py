"""Gomoku sockets: one game (``/ws/game/<id>/``) and the lobby (``/ws/game/lobby/``).

The referee is ``realtime.game.service``; these consumers only read frames,
call it, and keep presence (who watches, who is gone) up to date.
"""

import asyncio
import time
import uuid
from functools import wraps

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from realtime.core import fanout
from realtime.core.envelope import (
    CloseCode,
    ErrorCode,
    close_reason,
    encode,
    user_ref,
)
from realtime.core.presence import get_presence
from realtime.core.sockets import JsonSocket
from realtime.game import chat, seeks, service
from realtime.game import protocol as proto
from realtime.game.protocol import GameError, game_topic

MAX_WATCHERS_LISTED = 50
TIMER_SLACK = 0.05  # seconds after a deadline before settling it


def _refereed(handler):
    """Answer a refused action with its error frame; it is not abuse, so no strike."""

    @wraps(handler)
    async def run(self, frame):
        try:
            await handler(self, frame)
        except GameError as exc:
            await self.send_json(exc.frame())

    return run


class PresenceMixin:
    """Join the game pages' places with one entry per socket."""

    def _identity(self) -> tuple:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return user.pk, user.get_username()
        return f"anon-{self.conn_id}", ""  # counted as a watcher, never listed

    @property
    def authed(self) -> bool:
        user = self.scope.get("user")
        return user is not None and user.is_authenticated

    async def _online(self, joined: bool) -> None:
        """Enter or leave the lobby's "players online"; announce real changes."""
        if not self.authed:
            return
        presence = get_presence()
        if joined:
            changed = await presence.join(
                proto.ONLINE_PLACE, self.conn_id, *self._identity()
            )
        else:
            changed = await presence.leave(proto.ONLINE_PLACE, self.conn_id)
        if changed:
            players = await presence.members(proto.ONLINE_PLACE)
            await fanout.apublish(
                proto.LOBBY_TOPIC,
                {"type": "lobby.players", "players": players},
                key="players",
            )


class GameSocket(PresenceMixin, JsonSocket):
    """Watch one game; its players also move, resign, claim and rematch here."""

    async def connect(self):
        """Send the snapshot, then follow the game; anyone may watch."""
        self.game_id = int(self.scope["url_route"]["kwargs"]["game_id"])
        self.topic = game_topic(self.game_id)
        self.conn_id = uuid.uuid4().hex
        self.timer: asyncio.Task | None = None
        self.arrived = False
        snap = await self._snapshot()
        if snap is None:
            await self.refuse(CloseCode.NOT_FOUND, _("No such game."))
            return
        await self.accept()
        self._send_snapshot(snap)
        await self.follow(self.topic)
        await self.fanout_gap(self.topic, snap["seq"])  # what happened meanwhile
        await self._arrive()
        # Read after following: a line said meanwhile may come twice, never
        # not at all; the page keeps each id once.
        await self.send_json(await database_sync_to_async(chat.history)(self.game_id))

    def handlers(self):
        return {
            "game.join": self.on_join,
            "game.move": self.on_move,
            "game.resign": self.on_resign,
            "game.claim": self.on_claim,
            "game.rematch": self.on_rematch,
            "game.chat": self.on_chat,
            "game.sync": self.on_sync,
            "game.draw_offer": self.on_draw_offer,
            "game.draw_accept": self.on_draw_accept,
            "game.draw_decline": self.on_draw_decline,
            "game.choose": self.on_choose,
        }

    # Client frames.

    def _need_account(self):
        if not self.authed:
            raise GameError(
                ErrorCode.UNAUTHENTICATED,
                "login_required",
                _("Log in to play or chat."),
            )
        return self.scope["user"]

    @_refereed
    async def on_join(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.join)(self.game_id, user)
        self.players = (self.players[0], user.pk)
        await self._publish_watchers()

    @_refereed
    async def on_move(self, frame):
        x, y, seq = proto.read_move(frame)
        user = self._need_account()
        await database_sync_to_async(service.play)(self.game_id, user, x, y, seq)

    @_refereed
    async def on_resign(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.resign)(self.game_id, user)

    @_refereed
    async def on_claim(self, frame):
        user = self._need_account()
        present = {m["id"] for m in await get_presence().members(self.topic)}
        opponent = [p for p in self.players if p is not None and p != user.pk]
        online = any(p in present for p in opponent)
        await database_sync_to_async(service.claim)(self.game_id, user, online)

    @_refereed
    async def on_rematch(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.rematch)(self.game_id, user)

    @_refereed
    async def on_draw_offer(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.draws.offer)(self.game_id, user)

    @_refereed
    async def on_draw_accept(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.draws.accept)(self.game_id, user)

    @_refereed
    async def on_draw_decline(self, frame):
        user = self._need_account()
        await database_sync_to_async(service.draws.decline)(self.game_id, user)

    @_refereed
    async def on_choose(self, frame):
        choice = proto.read_choice(frame)
        user = self._need_account()
        await database_sync_to_async(service.choose)(self.game_id, user, choice)

    @_refereed
    async def on_chat(self, frame):
        text = proto.read_chat(frame)
        user = self._need_account()
        colors = dict(zip(self.players, ("b", "w"), strict=True))
        role = colors.get(user.pk, "spectator")
        event = await database_sync_to_async(chat.say)(self.game_id, user, role, text)
        await fanout.apublish(self.topic, event)

    async def on_sync(self, frame):
        """Resend what came after ``after``: the moves, or a fresh snapshot."""
        after = proto.read_after(frame)
        result = await database_sync_to_async(service.moves_after)(self.game_id, after)
        if result is None:
            await self.send_json(await self._snapshot())
            return
        for event in result[1]:
            await self.send_json(event)  # asked for: sent again even if seen

    # The reliable stream.

    async def _snapshot(self) -> dict | None:
        try:
            return await database_sync_to_async(service.snapshot)(self.game_id)
        except service.Game.DoesNotExist:
            return None

    def _send_snapshot(self, snap: dict) -> None:
        """Queue a snapshot; every live frame up to its seq is then a duplicate."""
        state = snap["game"]
        self.players = (
            state["black"] and state["black"]["id"],
            state["white"] and state["white"]["id"],
        )
        self.outbox.put_replayed(self.topic, snap["seq"], encode(snap))
        self.outbox.start_stream(self.topic, floor=snap["seq"])
        self._schedule(state["deadline"])

    async def fanout_gap(self, topic, after_seq):
        """Replay the moves after ``after_seq`` from the database, or a snapshot."""
        result = await database_sync_to_async(service.moves_after)(
            self.game_id, after_seq
        )
        if result is None:
            self._send_snapshot(await self._snapshot())
            return
        for event in result[1]:
            self.outbox.put_replayed(topic, event["seq"], encode(event))

    async def fanout_control(self, topic, event):
        """Referee notices: a new deadline (and seats), or a moderator's abort."""
        if event.get("kind") == "abort":
            note = event.get("note") or _("A moderator aborted the game.")
            await self.close(CloseCode.GAME_ABORTED, close_reason(note))
        elif event.get("kind") == "deadline":
            self.players = (event.get("black"), event.get("white"))
            self._schedule(event.get("deadline"))

    # Clocks: settle a timeout even if nobody sends anything.

    def _schedule(self, deadline: float | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if deadline is not None:
            delay = max(0.0, deadline - time.time()) + TIMER_SLACK
            self.timer = asyncio.ensure_future(self._settle_after(delay))

    async def _settle_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        # Every socket of the game may get here; the row lock decides once.
        await database_sync_to_async(service.settle_timeout)(self.game_id)

    # Presence: watchers, and players gone or back.

    async def _arrive(self) -> None:
        presence = get_presence()
        first = await presence.join(self.topic, self.conn_id, *self._identity())
        self.arrived = True
        await self._online(True)
        if first:
            await self._player_presence(online=True)
        await self._publish_watchers()

    async def disconnect(self, code):
        """Leave presence; a player's last socket leaving starts the grace period."""
        if self.timer is not None:
            self.timer.cancel()
        if not getattr(self, "arrived", False):
            return
        last = await get_presence().leave(self.topic, self.conn_id)
        await self._online(False)
        if last:
            await self._player_presence(online=False)
        await self._publish_watchers()

    async def _player_presence(self, online: bool) -> None:
        if not self.authed or self.scope["user"].pk not in self.players:
            return
        user = self.scope["user"]
        color = await database_sync_to_async(service.set_away)(
            self.game_id, user, not online
        )
        if color is not None:
            event = {
                "type": "game.presence",
                "color": color,
                "user": user_ref(user),
                "online": online,
                "grace": service.grace_seconds(),
            }
            await fanout.apublish(self.topic, event)

    async def _publish_watchers(self) -> None:
        members = await get_presence().members(self.topic)
        watchers = [m for m in members if m["id"] not in self.players]
        named = [m for m in watchers if m["name"]][:MAX_WATCHERS_LISTED]
        count = len(watchers)
        await fanout.apublish(
            self.topic,
            {"type": "game.watchers", "count": count, "members": named},
            key="watchers",
        )
        await fanout.apublish(
            proto.LOBBY_TOPIC,
            {"type": "lobby.spectators", "id": self.game_id, "count": count},
            key=f"s{self.game_id}",
        )


class LobbySocket(PresenceMixin, JsonSocket):
    """The lobby: open games, games in progress with spectators, players online."""

    async def connect(self):
        """Anyone may look; creating a game needs an account."""
        self.conn_id = uuid.uuid4().hex
        await self.accept()
        await self.follow(proto.LOBBY_TOPIC)
        await self._online(True)
        await self.send_json(await self._snapshot())

    def handlers(self):
        return {
            "lobby.create": self.on_create,
            "lobby.seek": self.on_seek,
            "lobby.cancel_seek": self.on_cancel_seek,
        }

    def _need_account(self, detail: str):
        if not self.authed:
            raise GameError(ErrorCode.UNAUTHENTICATED, "login_required", detail)
        return self.scope["user"]

    @_refereed
    async def on_create(self, frame):
        control = proto.read_time_control(frame)
        opening = proto.read_opening(frame)
        user = self._need_account(_("Log in to create a game."))
        game = await database_sync_to_async(service.create_game)(
            user,
            control["clock_minutes"],
            increment_seconds=control["increment_seconds"],
            opening_rule=opening,
            rated=control["rated"],
        )
        await self.send_json({"type": "lobby.created", "id": game.pk})

    @_refereed
    async def on_seek(self, frame):
        """Join the seek pool, or be paired at once with a waiting seek."""
        control = proto.read_time_control(frame)
        user = self._need_account(_("Log in to seek a game."))
        await self.follow(seeks.seek_topic(self.conn_id))  # before: never miss it
        members = await get_presence().members(proto.ONLINE_PLACE)
        paired = await database_sync_to_async(seeks.seek)(
            user, self.conn_id, online={m["id"] for m in members}, **control
        )
        if paired is not None:
            await self.send_json({"type": "lobby.paired", "id": paired})
            return
        seeking = {
            "clock": control["clock_minutes"],
            "increment": control["increment_seconds"]
            if control["clock_minutes"]
            else 0,
            "rated": control["rated"],
        }
        await self.send_json({"type": "lobby.seeking", "seek": seeking})

    async def on_cancel_seek(self, frame):
        await database_sync_to_async(seeks.cancel)(self.conn_id)
        await self.send_json({"type": "lobby.seeking", "seek": None})

    async def _snapshot(self) -> dict:
        await database_sync_to_async(service.settle_expired)()
        games = await database_sync_to_async(service.lobby_games)()
        presence = get_presence()
        for game in games:
            seated = {p["id"] for p in (game["black"], game["white"]) if p}
            members = await presence.members(game_topic(game["id"]))
            game["spectators"] = sum(m["id"] not in seated for m in members)
        players = await presence.members(proto.ONLINE_PLACE)
        pool = await database_sync_to_async(seeks.pool)()
        return {
            "type": "lobby.snapshot",
            "games": games,
            "players": players,
            "seeks": pool,
        }

    async def disconnect(self, code):
        """A seek lasts as long as its socket."""
        await database_sync_to_async(seeks.cancel)(self.conn_id)
        await self._online(False)
