"""The session stack of every socket, with its user read on the reader threads.

Channels' ``AuthMiddleware`` loads the session and then the user on the one
thread-sensitive database thread, where each handshake of a storm waits for
all the others' (``realtime.core.dbthreads``). This one does the same reads,
with Channels' own ``get_user``, on the reader threads.
"""

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware

from realtime.core.dbthreads import reads

# Channels' get_user is a database_sync_to_async wrapper: its plain function.
_get_user = reads(get_user.func)


class ReaderAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await _get_user(scope)


def SessionAuthStack(inner):
    """``channels.auth.AuthMiddlewareStack``, with ``ReaderAuthMiddleware``."""
    return CookieMiddleware(SessionMiddleware(ReaderAuthMiddleware(inner)))
