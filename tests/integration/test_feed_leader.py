"""`manage.py run_feeds` runs once: processes elect a leader with a PostgreSQL
advisory lock, the others stand by and one takes over when the leader dies."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from realtime.models import Instrument, PricePoint
from tests.servers import ROOT, PostgresProcess, server_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LEADER = "holds the feed lock"  # "Feed leader: pid N holds the feed lock"
STANDBY = "Feed standby"
STOPPED = "Market feed published"  # the market feed's last line when it stops


class FeedsProcess:
    """One real `manage.py run_feeds market` process, its output in a file."""

    def __init__(self, env: dict, log_dir: Path, name: str):
        self.log_path = log_dir / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_feeds", "market"],
            cwd=ROOT, env=env, stdout=open(self.log_path, "wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        wait_until(lambda: self.log().count(text) >= count, timeout, self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)


def wait_until(condition, timeout: float, explain=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s\n{explain()}")
        time.sleep(0.2)


@pytest.fixture
def feeds(tmp_path):
    """``feeds(database_url)`` starts a run_feeds process; all stopped at teardown."""
    started: list[FeedsProcess] = []

    def start(database_url: str) -> FeedsProcess:
        env = server_env(database_url, None, "feeds", DUPLEX_MARKET_INTERVAL="0.2")
        process = FeedsProcess(env, tmp_path, f"feeds{len(started)}")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def points_grow(timeout: float = 30) -> None:
    before = PricePoint.objects.count()
    wait_until(lambda: PricePoint.objects.count() > before, timeout)


def test_one_leader_publishes_and_a_standby_takes_over_after_kill_9(
    live_database_url, feeds
):
    Instrument.objects.create(symbol="LEAD", name="Leader Inc", reference_price=50)
    first = feeds(live_database_url)
    first.wait_for(LEADER)
    second = feeds(live_database_url)
    second.wait_for(STANDBY)
    points_grow()

    # The standby never ran the feed: stopped, it has nothing to report.
    second.stop()
    assert LEADER not in second.log() and STOPPED not in second.log()

    third = feeds(live_database_url)
    third.wait_for(STANDBY)
    first.proc.send_signal(signal.SIGKILL)  # its lock dies with its connection
    first.proc.wait(10)
    third.wait_for(LEADER)
    points_grow()
    third.stop()
    assert third.proc.returncode == 0
    published = third.log().split(STOPPED, 1)[1].split()[0]
    assert int(published) > 0, third.log()


@pytest.fixture
def private_postgres():
    server = PostgresProcess().init().start()
    yield server
    server.destroy()


def lock_holders(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).fetchone()
    return row[0]


def test_a_postgres_restart_stops_the_leader_and_elects_one_again(
    private_postgres, feeds
):
    """When the database goes away the leader stops its feeds (it can no longer
    know it holds the lock); when it is back exactly one process leads."""
    url = private_postgres.url
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT, env=server_env(url, None, "feeds"), check=True,
    )  # fmt: skip
    first = feeds(url)
    first.wait_for(LEADER)
    second = feeds(url)
    second.wait_for(STANDBY)
    assert lock_holders(url) == 1

    private_postgres.stop()
    first.wait_for("lost the lock")
    first.wait_for(STOPPED)
    private_postgres.start()

    def leaders() -> int:
        return first.log().count(LEADER) + second.log().count(LEADER)

    wait_until(lambda: leaders() == 2, 30, lambda: first.log() + second.log())
    assert lock_holders(url) == 1
    time.sleep(3)  # a few more rounds of polling: the other stays a standby
    assert leaders() == 2 and lock_holders(url) == 1
    assert first.proc.poll() is None and second.proc.poll() is None


def test_without_postgresql_the_feeds_run_unguarded_with_a_warning(feeds, tmp_path):
    """SQLite has no advisory locks: run_feeds says so and runs as before."""
    url = f"sqlite:///{tmp_path / 'feeds.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT, env=server_env(url, None, "feeds"), check=True,
    )  # fmt: skip
    process = feeds(url)
    process.wait_for("no PostgreSQL, so no election")
    process.stop()
    assert process.proc.returncode == 0
    assert STOPPED in process.log(), process.log()
