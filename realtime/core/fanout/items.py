"""What an outbox's queue holds, and which seqs of a stream a socket was sent."""

from realtime.core.fanout.frame import Frame

SEQ_WINDOW = 1024  # out-of-order sequence numbers remembered per stream


class SeqWindow:
    """Which sequence numbers of one stream a socket has been sent."""

    __slots__ = ("above", "floor")

    def __init__(self, floor: int):
        self.floor = floor  # every seq <= floor was sent (or predates the socket)
        self.above: set[int] = set()

    def missing_before(self, seq: int) -> bool:
        """True when ``seq`` comes after a hole: a frame before it never came."""
        return seq > self.floor + 1 and (seq - 1) not in self.above

    def add(self, seq: int) -> bool:
        """Record ``seq``; False when it was already sent (a duplicate)."""
        if seq <= self.floor or seq in self.above:
            return False
        self.above.add(seq)
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.remove(self.floor)
        if len(self.above) > SEQ_WINDOW:  # a hole that will not fill: move on
            self.floor = min(self.above)
            self.above.discard(self.floor)
        return True


# Queue items.


class Text:
    """One of the consumer's own frames, or a frame read back from the store."""

    __slots__ = ("size", "text")

    def __init__(self, text: str):
        self.text = text
        self.size = len(text) if text.isascii() else len(text.encode())


class Keyed:
    """The slot of a conflated key: it sends ``Outbox.latest[key]`` when popped."""

    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key


class Sequenced:
    """A held frame of a reliable stream."""

    __slots__ = ("frame",)

    def __init__(self, frame: Frame):
        self.frame = frame


class Closing:
    """A close queued behind the frames before it."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str | None):
        self.code, self.reason = code, reason

    def message(self) -> dict:
        message = {"type": "websocket.close", "code": self.code}
        if self.reason:
            message["reason"] = self.reason
        return message


Item = Text | Keyed | Sequenced | Closing
