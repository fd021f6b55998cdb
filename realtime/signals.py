"""Signals between features, so that one feature reacts to another's events
without importing it (notifications listen to chat and quotes).

Each is sent by the feature that owns the event, after the write committed,
with ``await signal.asend(...)`` from async code or ``signal.send(...)`` from
sync code. Receivers must be cheap or hand work off: quotes send one
``price_ticked`` per tick.
"""

from django.dispatch import Signal

# Chat, after a message is stored and committed.
# kwargs: message_id: int, room_slug: str, room_public: bool, author_id: int,
#         author_name: str, text: str, mentions: list[str] (usernames),
#         direct_to: list[int] (in a direct room: the other member; else empty)
message_posted = Signal()

# Quotes feed, for every tick of an instrument.
# kwargs: symbol: str, price: float, previous: float, at: str (ISO 8601)
price_ticked = Signal()
