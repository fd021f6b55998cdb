"""The benchmarked application: the project's full stack plus the bench sockets.

Same middleware as production (daphne socket access, origin check, sessions
and auth), so the bench measures what a visitor's connection costs.
"""

from project.asgi import http_app  # noqa: I001 (builds Django before the consumers)

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from bench.consumers import (
    BurstSocket,
    DuplexPublisher,
    DuplexSubscriber,
    StockPublisher,
    StockSubscriber,
)
from realtime.core.auth import SessionAuthStack
from realtime.routing import websocket_urlpatterns
from realtime.core.transport import DaphneSocketMiddleware

bench_urlpatterns = [
    path("bench/duplex/sub/", DuplexSubscriber.as_asgi()),
    path("bench/duplex/pub/", DuplexPublisher.as_asgi()),
    path("bench/stock/sub/", StockSubscriber.as_asgi()),
    path("bench/stock/pub/", StockPublisher.as_asgi()),
    path("bench/duplex/burst/", BurstSocket.as_asgi()),
]

application = DaphneSocketMiddleware(
    ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": AllowedHostsOriginValidator(
                SessionAuthStack(URLRouter(bench_urlpatterns + websocket_urlpatterns))
            ),
        }
    )
)
