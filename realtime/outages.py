"""What a dependency outage looks like from the code: Redis or PostgreSQL unreachable.

Code that can carry on without the service (presence, flood control, the
fan-out hub) catches these and degrades; sockets answer "unavailable" or 1013.
"""

import redis.exceptions
from django.db import InterfaceError, OperationalError

SERVICE_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)
