"""A clock that moves only when a test moves it: ``clock.now += seconds``."""


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
