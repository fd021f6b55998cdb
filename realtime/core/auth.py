"""The session stack of every socket, with its user read on the reader threads.

Channels' ``AuthMiddleware`` loads the session and then the user on the one
thread-sensitive database thread, where each handshake of a storm waits for
all the others' (``realtime.core.dbthreads``). This one does the same reads,
with Channels' own ``get_user``, on the reader threads.

A page opens two sockets with the same session cookie at once (the site's and
its feature's): they share one read of the session and its user, within
``USERS_FRESH`` seconds. Any logout or credentials change the process hears of
(``realtime.core.sessions``) forgets every shared read: the next handshake
reads the session again. Sockets read nothing of a shared scope's session but
its key.
"""

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware

from realtime.core.dbthreads import reads
from realtime.core.shared import SharedReads

# Channels' get_user is a database_sync_to_async wrapper: its plain function.
_get_user = reads(get_user.func)
USERS_FRESH = 2.0
_users = SharedReads(USERS_FRESH)


def forget_users() -> None:
    """A session ended or an account changed: read every session again."""
    _users.clear()


class ReaderAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        key = getattr(scope.get("session"), "session_key", None)
        if key:
            user = await _users.get(key, lambda: _get_user(scope))
        else:
            user = await _get_user(scope)
        scope["user"]._wrapped = user


def SessionAuthStack(inner):
    """``channels.auth.AuthMiddlewareStack``, with ``ReaderAuthMiddleware``."""
    return CookieMiddleware(SessionMiddleware(ReaderAuthMiddleware(inner)))
