"""Duplex's models, one module per feature, all in the ``realtime`` app."""

from realtime.models.chat import Ban, Message, Mute, Room, RoomEvent  # noqa: F401
from realtime.models.game import Game, Move  # noqa: F401
from realtime.models.notifications import (  # noqa: F401
    Notification,
    NotificationStream,
    PriceAlert,
    RoomFollow,
    TeamFollow,
    UserFollow,
)
from realtime.models.quotes import Instrument, PricePoint, Quote, Watchlist  # noqa: F401
from realtime.models.scores import Competition, Match, MatchEvent, Team  # noqa: F401
