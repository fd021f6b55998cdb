"""One published message, encoded and framed at most once per wire format."""

import json
from collections.abc import Callable
from typing import Any

from realtime.core.transport import prepare

Renderer = Callable[[dict[str, Any]], str | None]
_formats: dict[str, Renderer] = {}


def register_format(name: str, render: Renderer) -> None:
    """Add a wire format besides JSON; ``render`` returns None to skip an event."""
    _formats[name] = render


class Frame:
    """A layer message as the hub hands it to every local outbox."""

    __slots__ = ("_event", "_prepared", "_texts", "key", "seq", "text", "topic", "ts")

    def __init__(self, message: dict):
        self.topic = message["topic"]
        self.text = message["text"]
        self.key = message.get("key")
        self.seq = message.get("seq")
        self.ts = message.get("ts", 0.0)
        self._event = None
        self._texts: dict[str, str | None] = {"json": self.text}
        self._prepared: dict[str, Any] = {}

    def text_for(self, fmt: str) -> str | None:
        try:
            return self._texts[fmt]
        except KeyError:
            if self._event is None:
                self._event = json.loads(self.text)
            text = self._texts[fmt] = _formats[fmt](self._event)
            return text

    def prepared_for(self, fmt: str):
        """The frame as daphne's autobahn writes it (framed once for every socket)."""
        prepared = self._prepared.get(fmt)
        if prepared is None:
            text = self.text_for(fmt)
            prepared = self._prepared[fmt] = None if text is None else prepare(text)
        return prepared
