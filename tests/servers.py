"""Real daphne processes for integration and browser tests."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def get_json(url: str) -> tuple[int, dict]:
    """GET a JSON endpoint: (status, body), whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DaphneProcess:
    """One ``daphne`` process on a free loopback port, started and stopped for real.

    ``host``, ``port`` and ``wrap`` (a command prefix such as ``ip netns exec
    NS``) place it on a host of a simulated network (tests/integration/netns.py).
    """

    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        name: str = "daphne",
        args=(),
        app: str = "project.asgi:application",
        host: str = "127.0.0.1",
        port: int | None = None,
        wrap=(),
    ):
        self.host = host
        self.port = port or free_port()
        self.wrap = list(wrap)
        self.env = env
        self.args = list(args)
        self.app = app
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def start(self, timeout: float = 20.0) -> "DaphneProcess":
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Start the process without waiting for it to answer."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                *self.wrap,
                sys.executable,
                "-m",
                "daphne",
                "-b",
                self.host,
                "-p",
                str(self.port),
                "--websocket_connect_timeout",
                "10",
                *self.args,
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"daphne exited early; see {self.log_path}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(
                    self.url + "/healthz", timeout=1
                ) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"daphne did not answer in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def server_env(database_url: str, redis_url: str | None, prefix: str, **extra) -> dict:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PYTEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=database_url,
        REDIS_PREFIX=prefix,
        DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update({key: str(value) for key, value in extra.items()})
    return env


class RedisProcess:
    """A private redis-server on a free port, for tests that stop or shard Redis.

    ``host``, ``port`` and ``wrap`` as for DaphneProcess; ``args`` are more
    redis-server options (``["--replicaof", host, port]``)."""

    def __init__(
        self,
        log_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        wrap=(),
        args=(),
    ):
        self.host = host
        self.port = port or free_port()
        self.wrap = list(wrap)
        self.log_dir = log_dir
        self.args = list(args)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisProcess":
        # Off loopback, Redis without a password answers only DENIED unless
        # protected mode is off: the simulated hosts' network is the test's own.
        protected = "yes" if self.host == "127.0.0.1" else "no"
        self.proc = subprocess.Popen(
            [*self.wrap, "redis-server", "--port", str(self.port), "--bind", self.host,
             "--protected-mode", protected,
             "--save", "", "--appendonly", "no", "--dir", str(self.log_dir),
             *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


POSTGRES_ROOT = Path("/usr/lib/postgresql")  # Debian: <root>/<version>/bin


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's ``bin``; looked up when a test needs it."""
    try:
        versions = os.listdir(POSTGRES_ROOT)
    except FileNotFoundError:
        versions = []
    if not versions:
        raise RuntimeError(
            f"PostgreSQL is not installed (no {POSTGRES_ROOT}/<version>)"
        )
    newest = max(versions, key=lambda v: [int(n) for n in v.split(".") if n.isdigit()])
    return POSTGRES_ROOT / newest / "bin"


class PostgresProcess:
    """A private PostgreSQL cluster on a free port, for tests that restart it.

    ``host``, ``port`` and ``wrap`` as for DaphneProcess; ``clients`` is the
    network (CIDR) whose connections it trusts besides its own host's;
    ``settings`` are server settings (``name=value``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        wrap=(),
        clients: str | None = None,
        settings=(),
    ):
        import tempfile

        self.bin = postgres_bin()
        self.host = host
        self.port = port or free_port()
        self.wrap = list(wrap)
        self.clients = clients
        self.settings = list(settings)
        self.dir = Path(tempfile.mkdtemp(prefix="duplex-pg-"))
        self.data = self.dir / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        command = (
            ["runuser", "-u", "postgres", "--", *args]
            if os.getuid() == 0
            else list(args)
        )
        command = [*self.wrap, *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> "PostgresProcess":
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        initdb = str(self.bin / "initdb")
        self._as_postgres(
            initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        if self.clients:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.clients} trust\n")
        return self

    def start(self) -> "PostgresProcess":
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={self.host} -c fsync=off"
        )
        options += "".join(f" -c {setting}" for setting in self.settings)
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "log"), "-w", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            pg_ctl = str(self.bin / "pg_ctl")
            self._as_postgres(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
