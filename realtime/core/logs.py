"""Structured logs: one JSON object per line when ``LOG_FORMAT=json``.

Socket events are logged with ``extra={"event": ..., "conn": ..., "user": ...,
"code": ...}``; the formatter keeps those fields and never adds message
bodies, cookies or tokens (nothing logs them in the first place, and
tests/integration/test_logs.py checks a real server's output for them).
"""

import json
import logging
import time

FIELDS = ("event", "conn", "user", "path", "code", "reason", "room", "target", "by")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The development format, with the socket fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = [
            f"{field}={getattr(record, field)}"
            for field in FIELDS
            if getattr(record, field, None) is not None
        ]
        return f"{text} {' '.join(extras)}" if extras else text


class LayerOutage(logging.Filter):
    """channels-redis' pub/sub reader logs a traceback each second while Redis
    is down; an outage is an expected state, said in one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from redis.exceptions import ConnectionError, TimeoutError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionError | TimeoutError | OSError):
            record.msg = "Channel layer unreachable (%s: %s); retrying"
            record.args = (type(error).__name__, error)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
