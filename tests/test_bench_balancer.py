"""The rolling-restart bench sends each attempt where the deployed nginx
upstream would (``least_conn``, ``max_fails=1 fail_timeout=5s``): its figures
say what a restart costs behind ``deploy/nginx/duplex.conf``."""

from bench.room_client import LeastConn
from tests.clock import Clock


def test_a_restarted_process_takes_the_reconnects_until_it_is_as_busy():
    balancer = LeastConn(2, clock=Clock())
    balancer.active[:] = [0, 2000]  # process 0 just came back, empty
    firsts = []
    for _ in range(2000):
        first = balancer.order()[0]
        balancer.active[first] += 1
        firsts.append(first)
    assert firsts == [0] * 2000
    assert balancer.active == [2000, 2000]


def test_equals_take_turns():
    balancer = LeastConn(2, clock=Clock())
    assert {balancer.order()[0], balancer.order()[0]} == {0, 1}


def test_a_refusing_process_is_skipped_for_the_fail_timeout_then_tried_again():
    clock = Clock()
    balancer = LeastConn(2, clock=clock)
    balancer.active[:] = [0, 5]
    balancer.failed(0)  # connection refused: stopped listening
    assert balancer.order() == [1]
    clock.now += LeastConn.FAIL_TIMEOUT - 0.1
    assert balancer.order() == [1]
    clock.now += 0.2
    assert balancer.order() == [0, 1]  # back, and it has fewer connections


def test_when_every_process_is_down_all_are_tried():
    balancer = LeastConn(2, clock=Clock())
    balancer.failed(0)
    balancer.failed(1)
    assert sorted(balancer.order()) == [0, 1]
