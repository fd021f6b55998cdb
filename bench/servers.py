"""Start and stop the measured servers: pinned to one core, with a high fd limit."""

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SERVER_CPUS = {0}
CLIENT_CPUS = {1}


# Decided once, before this process pins itself to the client's core.
PINNING = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2


def can_pin() -> bool:
    return PINNING


def no_pinning() -> None:
    global PINNING
    PINNING = False


def raise_fd_limit() -> int:
    """Raise this process' open-file limit to the hard limit (children inherit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pin_client() -> None:
    if can_pin():
        os.sched_setaffinity(0, CLIENT_CPUS)


def node_ceiling() -> str:
    """The node binary, once bench/package-lock.json's packages are installed."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("ws-node needs Node.js: `make bench-deps` installs it")
    if not (BENCH / "node_modules" / "ws").is_dir():
        raise RuntimeError(
            "ws-node needs bench/node_modules: `make bench-deps` "
            "(npm ci --prefix bench) installs ws and bufferutil"
        )
    return node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_env(prefix: str, redis_url: str | None) -> dict:
    """The environment of a benchmarked Django process (servers, account set-up)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789abcdef",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        REDIS_PREFIX=prefix,
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def per_thousand(seconds: float, count: int) -> float | None:
    """``seconds`` per item of ``count``, in milliseconds."""
    return round(1000 * seconds / count, 2) if count else None


@dataclass
class ServerSpec:
    """One kind of server under test and where its three endpoints live."""

    name: str
    kind: str  # "daphne", "websockets" or "node"
    sub: str
    pub: str
    echo: str
    redis: bool = False
    env: dict = field(default_factory=dict)
    app: str = "bench.asgi:application"

    @property
    def raw(self) -> bool:
        """A ceiling: a bare library's server, no framework, no channel layer."""
        return self.kind != "daphne"


SPECS = {
    "duplex-memory": ServerSpec(
        "duplex-memory",
        "daphne",
        "/bench/duplex/sub/",
        "/bench/duplex/pub/",
        "/ws/echo/",
    ),
    "duplex-redis": ServerSpec(
        "duplex-redis",
        "daphne",
        "/bench/duplex/sub/",
        "/bench/duplex/pub/",
        "/ws/echo/",
        redis=True,
    ),
    "stock-memory": ServerSpec(
        "stock-memory",
        "daphne",
        "/bench/stock/sub/",
        "/bench/stock/pub/",
        "/ws/echo/",
        env={"BENCH_LAYER_DEFAULTS": "1"},
    ),
    "stock-redis": ServerSpec(
        "stock-redis",
        "daphne",
        "/bench/stock/sub/",
        "/bench/stock/pub/",
        "/ws/echo/",
        redis=True,
        env={"BENCH_LAYER_DEFAULTS": "1"},
    ),
    "websockets": ServerSpec("websockets", "websockets", "/sub", "/pub", "/echo"),
    # The second ceiling: Node's ws with bufferutil (bench/ceiling_ws.mjs).
    "ws-node": ServerSpec("ws-node", "node", "/sub", "/pub", "/echo"),
    # duplex-redis serving the project's own application (project/asgi.py):
    # its graceful shutdown (1012 on SIGTERM) and admission control included.
    "duplex-redis-project": ServerSpec(
        "duplex-redis-project",
        "daphne",
        "/bench/duplex/sub/",
        "/bench/duplex/pub/",
        "/ws/echo/",
        redis=True,
        app="project.asgi:application",
    ),
}


class Server:
    """A running server process on a free loopback port."""

    def __init__(self, spec: ServerSpec, redis_url: str, prefix: str, log_dir: Path):
        self.spec = spec
        self.port = free_port()
        self.redis_url = redis_url
        self.prefix = prefix
        self.log_path = log_dir / f"{spec.name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.spec.kind == "websockets":
            return [sys.executable, "-m", "bench.ceiling", str(self.port)]
        if self.spec.kind == "node":
            return [node_ceiling(), str(BENCH / "ceiling_ws.mjs"), str(self.port)]
        return [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            self.spec.app,
        ]

    def environment(self) -> dict:
        env = django_env(self.prefix, self.redis_url if self.spec.redis else None)
        env.update(self.spec.env)
        return env

    def start(self, timeout: float = 30.0) -> "Server":
        log = open(self.log_path, "ab")
        pin = can_pin()
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, SERVER_CPUS)) if pin else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{self.spec.name} did not listen in {timeout}s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def log_count(self, needle: str) -> int:
        return self.log_path.read_text(errors="replace").count(needle)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
