"""Every WebSocket endpoint; docs/protocol.md describes each."""

from django.urls import path, re_path

from realtime.chat import consumers as chat
from realtime.core.missing import NoSuchEndpoint
from realtime.echo import consumers as echo
from realtime.game import consumers as game
from realtime.notifications import consumers as notifications
from realtime.quotes import consumers as quotes
from realtime.scores import consumers as scores
from realtime.site import consumers as site

websocket_urlpatterns = [
    path("ws/site/", site.SiteSocket.as_asgi()),
    path("ws/echo/", echo.EchoConsumer.as_asgi()),
    re_path(r"^echo/?$", echo.EchoConsumer.as_asgi()),
    path("ws/echo/handshake/", echo.HandshakeConsumer.as_asgi()),
    path("ws/scores/", scores.ScoresSocket.as_asgi()),
    path("ws/notifications/", notifications.NotificationSocket.as_asgi()),
    path("ws/quotes/", quotes.QuotesSocket.as_asgi()),
    path("ws/chat/", chat.ChatLobbySocket.as_asgi()),
    path("ws/chat/<slug:slug>/", chat.ChatSocket.as_asgi()),
    path("ws/game/lobby/", game.LobbySocket.as_asgi()),
    path("ws/game/<int:game_id>/", game.GameSocket.as_asgi()),
    re_path(r"", NoSuchEndpoint.as_asgi()),  # last: anything else is 4004
]
