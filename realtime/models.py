"""Duplex's models: each feature folder has its own; all in the ``realtime`` app."""

from realtime.chat.models import (  # noqa: F401
    Ban,
    Message,
    Mute,
    Reaction,
    ReadMark,
    Room,
    RoomEvent,
)
from realtime.game.models import ChatLine, Game, Move, Rating, Seek  # noqa: F401
from realtime.notifications.models import (  # noqa: F401
    Notification,
    NotificationStream,
    PriceAlert,
    RoomFollow,
    TeamFollow,
    UserFollow,
)
from realtime.quotes.models import Instrument, PricePoint, Quote, Watchlist  # noqa: F401
from realtime.scores.models import Competition, Match, MatchEvent, Team  # noqa: F401
from realtime.tokens.models import AccessToken  # noqa: F401
