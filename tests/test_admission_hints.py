"""Retry hints of storms: the refused (1013) and the restarted (1012) come
back about as fast as they can be served, not all at once."""

import random
from collections import Counter

from realtime.core.admission import Door
from tests.clock import Clock


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


def test_a_process_closing_many_sockets_asks_for_a_wider_restart_spread(
    monkeypatch,
):
    """SIGTERM's 1012: a few hundred sockets keep client.js' 5-s spread; 2,000
    ask to be spread over 20 s, at the rate the others take them back."""
    from realtime.core.lifecycle import restart_reason

    monkeypatch.delenv("DUPLEX_REJOIN_RATE", raising=False)
    assert restart_reason(300) == "server restarting"
    assert restart_reason(2000) == "server restarting; retry=20"
    monkeypatch.setenv("DUPLEX_REJOIN_RATE", "400")
    assert restart_reason(2000) == "server restarting"
