"""Every WebSocket endpoint; docs/protocol.md describes each."""

from django.urls import path, re_path

from realtime.consumers import echo, game, site

websocket_urlpatterns = [
    path("ws/site/", site.SiteSocket.as_asgi()),
    path("ws/echo/", echo.EchoConsumer.as_asgi()),
    re_path(r"^echo/?$", echo.EchoConsumer.as_asgi()),
    path("ws/echo/handshake/", echo.HandshakeConsumer.as_asgi()),
    path("ws/game/lobby/", game.LobbySocket.as_asgi()),
    path("ws/game/<int:game_id>/", game.GameSocket.as_asgi()),
]
