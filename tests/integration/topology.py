"""The production topology on one machine: nginx (TLS) in front of two daphne
processes and the feed process, run from the repository's own
deploy/nginx/duplex.conf."""

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    port: int, upstreams: list[int], cert: Path, key: Path, root: Path
) -> str:
    """deploy/nginx/duplex.conf with this machine's ports, paths and host."""
    conf = SITE_CONF.read_text()
    conf = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", conf, count=1, flags=re.S)
    conf = conf.replace("    listen [::]:443 ssl http2;\n", "")
    conf = conf.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    conf = conf.replace("duplex.example.com;", "127.0.0.1;")
    conf = re.sub(
        r"    server 127\.0\.0\.1:8001 (.*);\n    server 127\.0\.0\.1:8002 .*;\n",
        lambda m: "".join(
            f"    server 127.0.0.1:{p} {m.group(1)};\n" for p in upstreams
        ),
        conf,
    )
    conf = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", conf)
    conf = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", conf)
    conf = conf.replace("/srv/duplex/staticfiles/", f"{root / 'static'}/")
    conf = conf.replace("/srv/duplex/media/", f"{root / 'media'}/")
    assert f"127.0.0.1:{upstreams[0]}" in conf and str(cert) in conf
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
    """nginx on a free port over two daphne processes sharing Redis and PostgreSQL."""

    def __init__(
        self, database_url: str, redis_url: str, prefix: str, root: Path, **env: str
    ):
        self.root = root
        self.port = free_port()
        self.env = server_env(
            database_url,
            redis_url,
            prefix,
            DEBUG="0",
            SECRET_KEY=SECRET,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BEHIND_PROXY="1",
            SERVE_STATIC="0",
            STATIC_ROOT=str(root / "static"),
            MEDIA_ROOT=str(root / "media"),
            **env,
        )
        self.daphnes = [DaphneProcess(self.env, root, f"web{i}") for i in (1, 2)]
        self.nginx: subprocess.Popen | None = None
        self.feeds: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.port}"

    def start(self) -> "Topology":
        (self.root / "media").mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip
        for daphne in self.daphnes:
            daphne.start()
        cert, key = make_certificate(self.root)
        self.cert = cert
        upstreams = [d.port for d in self.daphnes]
        (self.root / "duplex.conf").write_text(
            site_config(self.port, upstreams, cert, key, self.root)
        )
        (self.root / "nginx.conf").write_text(MAIN_CONF.format(root=self.root))
        self.nginx = subprocess.Popen(
            ["nginx", "-p", str(self.root), "-c", str(self.root / "nginx.conf")],
            stderr=subprocess.STDOUT, stdout=open(self.root / "nginx.out", "wb"),
        )  # fmt: skip
        self._wait_ready()
        # The feeds as their own process, publishing to both daphnes via Redis.
        self.feeds = subprocess.Popen(
            [sys.executable, "manage.py", "run_feeds", "market"],
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
