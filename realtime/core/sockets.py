"""The base of every JSON feature socket: dispatch, errors, limits and fan-out."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from realtime.core import lifecycle, metrics, sessions
from realtime.core.admission import retry_reason
from realtime.core.envelope import (
    CloseCode,
    ErrorCode,
    ProtocolError,
    Ref,
    decode_frame,
    encode,
    ref_field,
)
from realtime.core.fanout import Outbox, get_hub
from realtime.core.language import language_of
from realtime.core.outages import OUTAGE_RETRY, SERVICE_ERRORS
from realtime.core.ratelimit import TokenBucket

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

UNAVAILABLE = gettext_lazy(
    "A service this page needs is briefly unavailable; try again."
)


@dataclass
class Answer:
    """The client frame a socket is handling now, whose replies echo its ``ref``.

    Kept in a context variable rather than on the socket: fan-out hooks
    (``fanout_control``) run beside a handler, and what they send answers no
    one. A task started by a handler copies the context, so ``done`` marks the
    end of the handler for it too.
    """

    socket: object
    ref: Ref | None = None
    done: bool = False


_answering: ContextVar[Answer | None] = ContextVar("answering", default=None)


class NoDispatchHop:
    """Skip the thread hop Channels makes before every consumer message
    (``aclose_old_connections`` through a thread-sensitive ``sync_to_async``),
    which runs every inbound frame of the process through the one database
    thread, in the queue with every handshake's queries. For consumers that
    never touch the database, or whose every database call goes through
    ``database_sync_to_async`` (which closes old connections itself, on that
    thread). Put it first in the bases."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class SpeaksReaderLanguage:
    """Handle every message of a socket in the language its page is shown in.

    The language is chosen once, at the handshake, by LocaleMiddleware's rules
    (cookie, then Accept-Language); error details and the close reasons a page
    shows are rendered with gettext in it.
    """

    language = settings.LANGUAGE_CODE

    async def dispatch(self, message):
        if message["type"] == "websocket.connect":
            self.language = language_of(self.scope)
        with translation.override(self.language):
            await super().dispatch(message)

    async def in_language(self, topic: str, event: dict[str, Any]) -> None:
        """``fanout_control`` in the socket's language (the hub calls it)."""
        with translation.override(self.language):
            await self.fanout_control(topic, event)


class ObservedSocket(AsyncWebsocketConsumer):
    """Counts and logs a socket's life: accept, refuse, close (with its code).

    Logs carry a connection id, the user id and the path; never a frame's
    content, a cookie or a session key.
    """

    accepted = False

    def _log_fields(self, event: str, **extra) -> dict:
        user = self.scope.get("user")
        if not hasattr(self, "conn_log_id"):
            self.conn_log_id = uuid.uuid4().hex[:12]
        return {
            "event": event,
            "conn": self.conn_log_id,
            "user": getattr(user, "pk", None),
            "path": self.scope.get("path"),
            **extra,
        }

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self.accepted = True
        endpoint = metrics.endpoint_of(self.scope.get("path", ""))
        metrics.connections.inc(endpoint)
        metrics.connections_total.inc(endpoint)
        log.info("socket open", extra=self._log_fields("connect"))
        session, user = self.scope.get("session"), self.scope.get("user")
        if getattr(user, "is_authenticated", False) and session:
            await sessions.watch(self, session.session_key, user)

    async def websocket_disconnect(self, message):
        """Count and log the close, then run ``disconnect`` even in an outage."""
        # No code, or an invalid one (daphne reports an empty close frame and
        # a one-byte payload alike as None): 1005, "no status received".
        code = message.get("code") or 1005
        if self.accepted:
            self.accepted = False
            endpoint = metrics.endpoint_of(self.scope.get("path", ""))
            metrics.connections.dec(endpoint)
            metrics.closes_total.inc(endpoint, code)
            log.info("socket closed", extra=self._log_fields("close", code=code))
        sessions.unwatch(self)
        try:
            await self.disconnect(code)
        except SERVICE_ERRORS as exc:
            log.warning(
                "cleanup after close failed: %s", exc, extra=self._log_fields("outage")
            )
        raise StopConsumer()


class JsonSocket(SpeaksReaderLanguage, NoDispatchHop, ObservedSocket):
    """A socket that speaks the JSON envelope and receives fan-out through the hub.

    Subclasses list their client message types in ``handlers()`` (an allow-list:
    a client never names a method) and call ``follow(topic)`` to receive a
    topic's publishes. Bad input earns an error frame and a strike; too many
    strikes, or a flood past the token bucket, close the socket with 1008.
    """

    # The hub delivers fan-out; a socket needs no channel-layer channel of its own.
    # This turns off Channels' own idioms on these sockets: with no channel,
    # ``self.channel_layer`` is None, the ``groups`` attribute joins nothing,
    # and a ``group_send`` to a handler of this class reaches no one, silently.
    # Publish with ``realtime.core.fanout`` and receive with ``follow`` instead.
    channel_layer_alias = None
    wire_format = "json"

    async def websocket_connect(self, message):
        """Set up per-socket state before ``connect`` runs."""
        limits = settings.DUPLEX
        self.endpoint = metrics.endpoint_of(self.scope.get("path", ""))
        self.bucket = TokenBucket(limits["FRAME_RATE"], limits["FRAME_BURST"])
        self.strikes = 0
        self.following: set[str] = set()
        self.outbox = Outbox(
            self.scope,
            self.base_send,
            fmt=self.wire_format,
            on_gap=self.fanout_gap,
            on_control=self.in_language,
            max_queued=limits["OUTBOX_MAX_BYTES"],
        )
        try:
            await super().websocket_connect(message)
        except SERVICE_ERRORS as exc:
            log.warning("connect failed: %s", exc, extra=self._log_fields("outage"))
            if not self.accepted:  # with the offered subprotocol, or Chromium drops it
                await self.accept(getattr(self, "subprotocol", None))
            reason = retry_reason("service unavailable", OUTAGE_RETRY)
            await self.close(CloseCode.TRY_AGAIN_LATER, reason)

    def handlers(self) -> dict[str, Handler]:
        """Map each client ``type`` this socket accepts to its handler."""
        return {}

    async def receive(self, text_data=None, bytes_data=None):
        """Check, decode and dispatch one client frame; errors never escape.

        Every frame sent while it is handled (its reply, its error) echoes its
        ``ref``. After SIGTERM a frame starts nothing: the socket has been
        closed with 1012 and the client sends again what was not answered.
        """
        if lifecycle.draining():
            metrics.dropped_draining.inc(self.endpoint)
            return
        answer = Answer(self)
        token = _answering.set(answer)
        try:
            await self._handle(answer, text_data, bytes_data)
        finally:
            answer.done = True
            _answering.reset(token)

    async def _handle(self, answer: Answer, text_data, bytes_data) -> None:
        try:
            frame = self.decode(text_data, bytes_data)
            metrics.messages_in.inc(self.endpoint)
            answer.ref = ref_field(frame)
            if not self.bucket.take():
                metrics.rate_limited.inc(self.endpoint)
                await self.strike(
                    ProtocolError(
                        ErrorCode.RATE_LIMITED, _("Too many frames; slow down.")
                    )
                )
                return
            if frame["type"] == "ping":  # client.js heartbeat
                await self.send_json({"type": "pong"})
                return
            handler = self.handlers().get(frame["type"])
            if handler is None:
                raise ProtocolError(
                    ErrorCode.UNKNOWN_TYPE,
                    _("Unknown type %(type)r.") % {"type": frame["type"]},
                )
            await handler(frame)
        except ProtocolError as exc:
            await self.strike(exc)
        except SERVICE_ERRORS as exc:
            log.warning("frame failed: %s", exc, extra=self._log_fields("outage"))
            await self.send_json(
                ProtocolError(ErrorCode.UNAVAILABLE, UNAVAILABLE).frame()
            )

    def decode(self, text_data, bytes_data) -> dict[str, Any]:
        if bytes_data is not None:
            raise ProtocolError(
                ErrorCode.BINARY_UNSUPPORTED, _("Send JSON text frames.")
            )
        if len(text_data) > settings.DUPLEX["MAX_FRAME_BYTES"]:
            raise ProtocolError(ErrorCode.TOO_BIG, _("The frame is too big."))
        return decode_frame(text_data)

    async def strike(self, error: ProtocolError) -> None:
        """Answer bad input with its error frame; close 1008 on repeated abuse."""
        self.strikes += 1
        metrics.errors_total.inc(self.endpoint, str(error.code))
        if self.strikes > settings.DUPLEX["MAX_STRIKES"]:
            fields = self._log_fields("strikes", code=int(CloseCode.POLICY_VIOLATION))
            log.info("closing after %d strikes", self.strikes, extra=fields)
            await self.close(CloseCode.POLICY_VIOLATION)
            return
        await self.send_json(error.frame())

    def replying(self, frame: dict[str, Any]) -> dict[str, Any]:
        """``frame``, with the ``ref`` of the client frame it answers, if any."""
        answer = _answering.get()
        if answer is None or answer.done or answer.socket is not self:
            return frame
        if answer.ref is None or "ref" in frame:
            return frame
        return {**frame, "ref": answer.ref}

    async def send_json(self, content: dict[str, Any]) -> None:
        """Send one frame through the outbox, in order with fan-out frames."""
        metrics.messages_out.inc(self.endpoint)
        self.outbox.put_text(encode(self.replying(content)))

    async def close(self, code=None, reason=None):
        """Close after every frame already queued (error frames, last events)."""
        outbox = getattr(self, "outbox", None)
        if outbox is None or code is None or code is True:
            await super().close(code, reason)
        else:
            await outbox.close_socket(code, reason)

    async def refuse(self, code: CloseCode, reason: str) -> None:
        """Accept, then close with an application code the browser can read.

        A close before accept is an HTTP 403 with no code; accepting first lets
        the client see ``code`` and ``reason`` and know not to reconnect. The
        accept selects the subprotocol that ``connect`` would (a socket sets
        ``self.subprotocol``): a browser that offered some drops a handshake
        answering none, and would never see the code.
        """
        await self.accept(getattr(self, "subprotocol", None))
        log.info("socket refused", extra=self._log_fields("refuse", code=int(code)))
        await self.close(code, reason)

    async def follow(self, topic: str) -> None:
        """Receive every publish to ``topic`` until unfollowed or disconnected."""
        if topic not in self.following:
            self.following.add(topic)
            await get_hub().join(topic, self.outbox)

    async def unfollow(self, topic: str) -> None:
        if topic in self.following:
            self.following.discard(topic)
            await get_hub().leave(topic, self.outbox)

    async def fanout_gap(self, topic: str, after_seq: int) -> None:
        """Replay a reliable stream after ``after_seq``; streams override this."""

    async def fanout_control(self, topic: str, event: dict[str, Any]) -> None:
        """React to a control event (ban, close, kick); features override this."""

    async def websocket_disconnect(self, message):
        """Leave every topic before the consumer stops."""
        outbox = getattr(self, "outbox", None)
        if outbox is not None:
            outbox.close()
            await get_hub().leave_all(outbox, self.following)
        await super().websocket_disconnect(message)
