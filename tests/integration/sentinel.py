"""A Redis Sentinel cluster on loopback: a primary, a replica, three sentinels.

Each server runs on a free port with its own folder; the sentinels notice a
dead primary within a second (``down-after-milliseconds``) and, two of three
agreeing, promote the replica.
"""

import subprocess
import time
from pathlib import Path

import redis

from tests.servers import RedisProcess, free_port

MASTER = "duplex"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


class SentinelProcess:
    """One ``redis-sentinel`` on a free port, watching ``MASTER``."""

    def __init__(self, folder: Path, primary_port: int, quorum: int):
        self.port = free_port()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        # Sentinel rewrites its file as it learns the cluster: one per process.
        self.config = self.folder / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.folder}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} {quorum}\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        self.proc: subprocess.Popen | None = None
        self.client = redis.Redis("127.0.0.1", self.port, socket_timeout=1)

    def start(self) -> "SentinelProcess":
        log = open(self.folder / "sentinel.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-sentinel", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        return self

    def state(self) -> dict:
        """What this sentinel knows: the master's port, its replicas, its peers."""
        master = self.client.sentinel_master(MASTER)
        return {
            "port": int(master["port"]),
            "down": bool(master["is_sdown"] or master["is_odown"]),
            "replicas": master["num-slaves"],
            "sentinels": master["num-other-sentinels"],
        }

    def stop(self) -> None:
        self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class SentinelCluster:
    """``SentinelCluster(folder).start()``; ``.sentinels`` for REDIS_SENTINELS,
    ``.wait_formed()`` before ``.kill_primary()``, ``.stop()`` at the end.

    The servers answer as soon as ``start`` returns; the sentinels take a few
    seconds more to find each other (hello messages every 2 s), which
    ``wait_formed`` waits for: without it none may lead a failover."""

    def __init__(self, folder: Path, sentinels: int = 3):
        self.folder = folder
        self.size = sentinels
        self.primary: RedisProcess | None = None
        self.replica: RedisProcess | None = None
        self.watchers: list[SentinelProcess] = []

    def start(self) -> "SentinelCluster":
        self.primary = RedisProcess(self._dir("primary")).start()
        replica_of = ["--replicaof", "127.0.0.1", str(self.primary.port)]
        self.replica = RedisProcess(self._dir("replica"), args=replica_of).start()
        quorum = self.size // 2 + 1
        self.watchers = [
            SentinelProcess(self.folder / f"sentinel{n}", self.primary.port, quorum)
            for n in range(self.size)
        ]
        for watcher in self.watchers:
            watcher.start()
        return self

    def wait_formed(self, timeout: float = 20.0) -> None:
        self._wait(self._formed, timeout, "the sentinels did not find each other")

    @property
    def sentinels(self) -> str:
        """The sentinels as REDIS_SENTINELS lists them: ``host:port,...``."""
        return ",".join(f"127.0.0.1:{w.port}" for w in self.watchers)

    def master_port(self) -> int | None:
        """The master's port, once every sentinel names the same healthy one."""
        try:
            states = [watcher.state() for watcher in self.watchers]
        except redis.RedisError:
            return None
        ports = {state["port"] for state in states}
        if len(ports) != 1 or any(state["down"] for state in states):
            return None
        return ports.pop()

    def kill_primary(self) -> None:
        """SIGKILL the primary: no shutdown, no last words to anyone."""
        self.primary.stop()

    def wait_promoted(self, timeout: float = 30.0) -> None:
        """Until every sentinel names the replica as the master."""
        replica = self.replica.port
        self._wait(lambda: self.master_port() == replica, timeout, "no promotion")

    def stop(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for server in (self.primary, self.replica):
            if server is not None:
                server.stop()

    def _formed(self) -> bool:
        """Each sentinel sees the primary, its replica in sync, and its peers."""
        if self.master_port() != self.primary.port:
            return False
        try:
            states = [watcher.state() for watcher in self.watchers]
        except redis.RedisError:
            return False
        link = redis.Redis("127.0.0.1", self.replica.port, socket_timeout=1)
        with link:
            in_sync = link.info("replication").get("master_link_status") == "up"
        return in_sync and all(
            state["replicas"] == 1 and state["sentinels"] == self.size - 1
            for state in states
        )

    def _dir(self, name: str) -> Path:
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def _wait(done, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{failure} within {timeout} s")
