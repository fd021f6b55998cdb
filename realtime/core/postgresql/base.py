"""Django's PostgreSQL backend, with its health check at most once a second.

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection (``SELECT 1``)
before its first query of each request. Channels runs every database call of
a socket as a request of its own (``close_old_connections`` around each), so
every call paid one more round trip to PostgreSQL, on the one thread all of
a process' database work shares: a quarter of that thread's time in a room's
join storm (py-spy, ``docs/performance.md``). A connection that passed a
check less than ``CHECK_EVERY`` seconds ago is taken as it is; one on which
an error occurred is still checked at once by Django's
``close_if_unusable_or_obsolete``, so a PostgreSQL restart costs at most the
calls of that second, which fail as an outage does.
"""

import time

from django.db.backends.postgresql import base

CHECK_EVERY = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    checked_at = float("-inf")

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.checked_at < CHECK_EVERY
        ):
            self.health_check_done = True
            return
        was_done = self.health_check_done
        super().close_if_health_check_failed()
        if self.connection is not None and not was_done:
            self.checked_at = time.monotonic()

    def connect(self):
        super().connect()
        self.checked_at = time.monotonic()  # a new connection is a checked one
