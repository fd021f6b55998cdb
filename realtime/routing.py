"""Every WebSocket endpoint; docs/protocol.md describes each."""

from django.urls import path, re_path

from realtime.consumers import chat, echo, game, notifications, quotes, scores, site
from realtime.consumers.missing import NoSuchEndpoint

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
