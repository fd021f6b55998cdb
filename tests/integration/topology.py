"""The production topology on one machine: nginx (TLS) in front of two daphne
processes and the feed process, run from the repository's own
deploy/nginx/duplex.conf."""

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.servers import ROOT, DaphneProcess, free_port, server_env

SITE_CONF = ROOT / "deploy" / "nginx" / "duplex.conf"
SECRET = "topology-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def site_config(
    port: int, upstreams: list[str], cert: Path, key: Path, root: Path
) -> str:
    """deploy/nginx/duplex.conf with this machine's ports, paths and host;
    ``upstreams`` are the daphne processes' ``host:port``."""
    conf = SITE_CONF.read_text()
    conf = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", conf, count=1, flags=re.S)
    conf = conf.replace("    listen [::]:443 ssl http2;\n", "")
    conf = conf.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    conf = conf.replace("duplex.example.com;", "127.0.0.1;")
    conf = re.sub(
        r"    server 127\.0\.0\.1:8001 (.*);\n    server 127\.0\.0\.1:8002 .*;\n",
        lambda m: "".join(
            f"    server {address} {m.group(1)};\n" for address in upstreams
        ),
        conf,
    )
    conf = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", conf)
    conf = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", conf)
    conf = conf.replace("/srv/duplex/staticfiles/", f"{root / 'static'}/")
    conf = conf.replace("/srv/duplex/media/", f"{root / 'media'}/")
    assert f"server {upstreams[0]} " in conf and str(cert) in conf
    return conf


MAIN_CONF = """
user root;
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/duplex.conf;
}}
"""


class Topology:
    """nginx on a free port over two daphne processes sharing Redis and PostgreSQL.

    Subclasses place the processes elsewhere (``make_daphnes``, ``feeds_wrap``):
    tests/integration/netns.py puts each daphne on a host of its own."""

    feeds_wrap: list[str] | None = []  # the feed process' command prefix; None: none

    def __init__(
        self, database_url: str, redis_url: str, prefix: str, root: Path, **env: str
    ):
        self.root = root
        self.port = free_port()
        production = {
            "DEBUG": "0",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BEHIND_PROXY": "1",
            "SERVE_STATIC": "0",
            "STATIC_ROOT": str(root / "static"),
            "MEDIA_ROOT": str(root / "media"),
        }
        self.env = server_env(database_url, redis_url, prefix, **{**production, **env})
        self.daphnes = self.make_daphnes()
        self.nginx: subprocess.Popen | None = None
        self.feeds: subprocess.Popen | None = None

    def make_daphnes(self) -> list[DaphneProcess]:
        return [DaphneProcess(self.env, self.root, f"web{i}") for i in (1, 2)]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.port}"

    def collectstatic(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT, env=self.env,
        )  # fmt: skip

    def start(self, collecting: subprocess.Popen | None = None) -> "Topology":
        """Start it all; ``collecting`` is a ``collectstatic`` already running."""
        (self.root / "media").mkdir(exist_ok=True)
        if (collecting or self.collectstatic()).wait() != 0:
            raise RuntimeError("collectstatic failed")
        for daphne in self.daphnes:
            daphne.launch()
        for daphne in self.daphnes:
            daphne.wait_ready(20)
        cert, key = make_certificate(self.root)
        self.cert = cert
        upstreams = [f"{d.host}:{d.port}" for d in self.daphnes]
        (self.root / "duplex.conf").write_text(
            site_config(self.port, upstreams, cert, key, self.root)
        )
        (self.root / "nginx.conf").write_text(MAIN_CONF.format(root=self.root))
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(self.root), "-c", str(self.root / "nginx.conf")],
            stderr=subprocess.STDOUT, stdout=open(self.root / "nginx.out", "wb"),
        )  # fmt: skip
        self._wait_ready()
        if self.feeds_wrap is None:
            return self
        # The feeds as their own process, publishing to both daphnes via Redis.
        self.feeds = subprocess.Popen(
            [*self.feeds_wrap, sys.executable, "manage.py", "run_feeds", "market"],
            cwd=ROOT, env={**self.env, "DUPLEX_MARKET_INTERVAL": "0.3"},
            stdout=open(self.root / "feeds.log", "wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def _wait_ready(self, timeout: float = 15) -> None:
        import ssl

        context = ssl.create_default_context(cafile=str(self.cert))
        context.check_hostname = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    self.url + "/healthz", context=context
                ) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError((self.root / "nginx-error.log").read_text()[-2000:])

    def ssl_context(self):
        import ssl

        context = ssl.create_default_context(cafile=str(self.cert))
        context.check_hostname = False
        return context

    def stop(self) -> None:
        if self.feeds is not None and self.feeds.poll() is None:
            self.feeds.terminate()
            self.feeds.wait(10)
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        for daphne in self.daphnes:
            daphne.stop()


class ChatClient:
    """A chat socket through nginx that reconnects and resumes like chat.js does."""

    def __init__(self, topology, session: str, room: str = "lobby"):
        self.topology, self.session, self.room = topology, session, room
        self.ws = None
        self.last_seq = 0
        self.seen: list[int] = []  # message seqs, in arrival order
        self.texts: dict[int, str] = {}  # each seen message's text, by seq
        self.errors: list[str] = []  # the codes of the error frames received
        self.closes: list[int | None] = []

    async def open(self):
        self.ws = await connect(
            f"{self.topology.ws_url}/ws/chat/{self.room}/",
            origin=self.topology.url,
            ssl=self.topology.ssl_context(),
            additional_headers={"Cookie": f"sessionid={self.session}"},
            open_timeout=5,
        )
        await self.ws.send(json.dumps({"type": "chat.join", "after": self.last_seq}))

    async def reopen(self):
        """Open again after a close, retrying a handshake that fails."""
        while True:
            await asyncio.sleep(0.2)
            try:
                return await self.open()
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed):
                continue

    def take(self, frame):
        if frame["type"] in ("chat.history", "chat.reset"):
            for message in frame["messages"]:
                self.take({"type": "chat.message", **message})
            return
        if frame["type"] == "error":
            self.errors.append(frame["code"])
        if frame["type"] == "chat.message" and frame["seq"] > self.last_seq:
            self.seen.append(frame["seq"])
            self.texts[frame["seq"]] = frame["text"]
        if "seq" in frame:
            self.last_seq = max(self.last_seq, frame["seq"])

    async def run(self, until):
        """Read (reconnecting after a close) until ``until()`` holds."""
        while not until():
            try:
                self.take(json.loads(await asyncio.wait_for(self.ws.recv(), 1)))
            except TimeoutError:
                continue
            except ConnectionClosed:
                self.closes.append(self.ws.close_code)
                await self.reopen()
