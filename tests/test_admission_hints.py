"""The retry hints of a handshake storm: the refused come back about as fast
as the process answers handshakes, not all at once."""

import random
from collections import Counter

from realtime.core.admission import Door


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_storms_retries_come_back_at_the_rate_the_process_serves():
    """8 in flight, half a second each: 16 handshakes per second. 1,000
    refused at once, each waiting its hint times 1 to 2 as client.js does,
    come back over about a minute, at most a few times as fast as served
    in any one second (a single hint for all would bring them back together)."""
    clock = Clock()
    door = Door(clock)
    for _ in range(50):
        door.answered(0.5)
    hints = [door.hint(8) for _ in range(1000)]
    assert hints == sorted(hints)
    random.seed(7)
    returns = Counter(int(h * (1 + random.random())) for h in hints)
    assert max(returns.values()) <= 3 * 16
    assert 30 <= max(hints) <= 60


def test_a_quick_process_asks_for_a_second_and_the_queue_empties_with_time():
    """Handshakes of 10 ms at a limit of 200: a burst of refusals waits the
    least hint; a second later the queue booked by an earlier storm is gone."""
    clock = Clock()
    door = Door(clock)
    for _ in range(50):
        door.answered(0.01)
    assert {door.hint(200) for _ in range(300)} == {1.0}
    for _ in range(50):
        door.answered(1.0)  # the process slowed down: 200/s
    long = [door.hint(200) for _ in range(3000)]
    assert long[-1] > 5
    clock.now += 120
    assert door.hint(200) == 1.0
