"""ASGI entry point: HTTP goes to Django, WebSocket through origin and auth checks."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# Build Django's application first: it populates the app registry, which the
# consumers' model imports below need.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from realtime.core import lifecycle, metrics  # noqa: E402
from realtime.core.admission import AdmissionGuard  # noqa: E402
from realtime.core.auth import SessionAuthStack  # noqa: E402
from realtime.core.fallback import FallbackRouter  # noqa: E402
from realtime.core.outages import OutageGuard  # noqa: E402
from realtime.core.security import SameOriginValidator  # noqa: E402
from realtime.core.transport import DaphneSocketMiddleware  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.tokens.middleware import BearerTokenMiddleware  # noqa: E402

http_app = (
    ASGIStaticFilesHandler(django_asgi_app)
    if settings.SERVE_STATIC
    else django_asgi_app
)

lifecycle.install()
metrics.install()
# The origin check lets a token handshake without an Origin through, without
# its cookie; the token is checked inside the outage guard (it reads the
# database) and inside the session stack, so its user is the scope's user.
websocket_app = SameOriginValidator(
    AdmissionGuard(
        OutageGuard(
            SessionAuthStack(BearerTokenMiddleware(URLRouter(websocket_urlpatterns)))
        )
    )
)
application = lifecycle.GracefulShutdownMiddleware(
    DaphneSocketMiddleware(
        ProtocolTypeRouter(
            {
                # /sse/: the fallback transport, the same sockets over HTTP.
                "http": FallbackRouter(http_app, websocket_app),
                "websocket": websocket_app,
            }
        )
    )
)
