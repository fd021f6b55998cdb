"""``client.js``'s reconnect and resume rules, ported for the bench's clients.

Each rule cites ``static/realtime/js/client.js`` (``DEFAULTS``,
``CLOSE_RULES``, ``_delay``, ``_open``'s stable timer, ``seen``/``resync``),
so a change there must be made here too. Times are in seconds, not ms.

- ``Backoff.delay(code, reason)`` is ``_delay`` then ``attempt += 1``
  (``_scheduleReconnect``): full jitter, ``random() * min(maxDelay,
  minDelay * 2 ** attempt)``, raised to what the close code asks for: never
  after 4000-4999 (``None``); after 1013 at least the reason's ``"; retry=S"``
  (else ``retryAfter``) times ``1 + random()``; after 1012 at least
  ``random()`` times ``restartSpread`` or the reason's retry hint, whichever
  is longer; after 1008 at least ``policyDelay`` times
  ``1 + random()``.
- The backoff resets only after a socket stayed open ``stableAfter``: JS
  arms a timer on ``open`` that sets ``attempt = 0`` and clears it on close;
  here ``opened()`` notes the time and ``closed()`` applies the reset the
  timer would have made by then.
- ``Stream.seen(seq)`` is ``seen``: False for a repeat, and for a frame
  after a hole, which asks for a resync (a fresh socket at once, whose hello
  has ``after`` = the last seq seen) at most once per ``RESYNC_EVERY``.
"""

import random
import re
import time

# client.js DEFAULTS (ms there, seconds here).
MIN_DELAY = 0.25
MAX_DELAY = 5.0
STABLE_AFTER = 10.0
CONNECT_TIMEOUT = 10.0
RESTART_SPREAD = 5.0
RETRY_AFTER = 5.0
POLICY_DELAY = 10.0
RESYNC_EVERY = 5.0  # client.js RESYNC_EVERY

CLOSE_RULES = {1008: "policy", 1012: "spread", 1013: "hint"}
RETRY_HINT = re.compile(r";\s*retry=(\d+(?:\.\d+)?)\s*$")
ABNORMAL = 1006  # what a browser reports for a drop, a refusal or a timeout


def close_rule(code: int | None) -> str:
    """client.js ``closeRule``: refused, policy, spread, hint or backoff."""
    if code is not None and 4000 <= code <= 4999:
        return "refused"
    return CLOSE_RULES.get(code, "backoff")


class Backoff:
    """One socket's attempt counter and the delay before its next attempt."""

    def __init__(self, rng: random.Random | None = None, clock=time.monotonic):
        self.attempt = 0
        self.rng = rng or random.Random()
        self.clock = clock
        self._opened_at: float | None = None

    def opened(self) -> None:
        """``ws.onopen``: arm the stable timer."""
        self._opened_at = self.clock()

    def closed(self) -> None:
        """``ws.onclose`` (and resync): clear the stable timer, after the
        reset it would have made if the socket stayed open long enough."""
        if self._opened_at is not None:
            if self.clock() - self._opened_at >= STABLE_AFTER:
                self.attempt = 0
            self._opened_at = None

    def delay(self, code: int | None, reason: str = "") -> float | None:
        """Seconds before the next attempt, or None: never retry (4xxx)."""
        rule = close_rule(code)
        if rule == "refused":
            return None
        cap = min(MAX_DELAY, MIN_DELAY * 2**self.attempt)
        backoff = self.rng.random() * cap
        if rule == "hint":
            hint = RETRY_HINT.search(reason or "")
            least = float(hint.group(1)) if hint else RETRY_AFTER
            backoff = max(backoff, least * (1 + self.rng.random()))
        elif rule == "spread":
            hint = RETRY_HINT.search(reason or "")
            window = max(RESTART_SPREAD, float(hint.group(1)) if hint else 0.0)
            backoff = max(backoff, self.rng.random() * window)
        elif rule == "policy":
            backoff = max(backoff, POLICY_DELAY * (1 + self.rng.random()))
        self.attempt += 1
        return backoff


class Stream:
    """client.js ``lastSeq[stream]`` with ``seen`` and the resync limit."""

    def __init__(self, clock=time.monotonic):
        self.last = 0
        self.clock = clock
        self._resync_at = -RESYNC_EVERY

    def reset(self, last_seq: int) -> None:
        """chat.js on ``chat.history`` (not ``before``) and ``chat.reset``."""
        self.last = last_seq

    def seen(self, seq: int) -> tuple[bool, bool]:
        """(accepted, resync now): ``seen`` and whether it calls ``resync``."""
        if seq <= self.last:
            return False, False
        if self.last and seq > self.last + 1:
            now = self.clock()
            if now - self._resync_at < RESYNC_EVERY:
                return False, False
            self._resync_at = now
            return False, True
        self.last = seq
        return True, False
