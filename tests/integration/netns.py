"""Several hosts on one machine: Linux network namespaces on a bridge.

Each host is a network namespace with one interface on a private /24 that no
other network uses; a bridge in a namespace of its own is the switch between
them, and the root namespace (nginx, the test) has a leg on it too. Nothing
is routed off the machine. ``tc netem`` delays every host's outgoing packets,
and an nftables rule in one host's namespace cuts it from another.
"""

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

from tests.integration.topology import Topology
from tests.servers import ROOT, DaphneProcess, PostgresProcess, RedisProcess

CUT_TABLE = "duplex_cut"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def missing() -> str | None:
    """Why this machine cannot simulate hosts, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns)"
    for tool, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {package})"
    probe = f"duplex-probe-{uuid.uuid4().hex[:6]}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"ip netns is unavailable: {made.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return None


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.200.0.0/13 that no route of the root namespace overlaps."""
    routes = json.loads(ip("-j", "-4", "route", "show", "table", "all").stdout)
    taken = [
        ipaddress.ip_network(route["dst"], strict=False)
        for route in routes
        if route.get("dst", "default") != "default"
    ]
    pool = list(ipaddress.ip_network("10.200.0.0/13").subnets(new_prefix=24))
    start = uuid.uuid4().int % len(pool)
    for subnet in pool[start:] + pool[:start]:
        if not any(subnet.overlaps(net) for net in taken):
            return subnet
    raise RuntimeError("no free private /24 for the simulated hosts")


class Network:
    """Hosts (network namespaces) on one bridge; the root namespace joins too."""

    def __init__(self, hosts: list[str], delay_ms: int = 20):
        self.id = uuid.uuid4().hex[:6]
        self.subnet = free_subnet()
        addresses = list(self.subnet.hosts())
        self.gateway = str(addresses[0])  # the root namespace's leg
        self.addresses = {name: str(addresses[10 + i]) for i, name in enumerate(hosts)}
        self.delay_ms = delay_ms
        self.delayed = False
        self.namespaces: list[str] = []

    def ns(self, host: str) -> str:
        return f"duplex-{self.id}-{host}"

    def address(self, host: str) -> str:
        return self.addresses[host]

    def wrap(self, host: str) -> list[str]:
        """The command prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.ns(host)]

    def _add_namespace(self, name: str) -> None:
        ip("netns", "add", name)
        self.namespaces.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def create(self) -> "Network":
        switch = self.ns("switch")
        self._add_namespace(switch)
        ip("-n", switch, "link", "add", "br0", "type", "bridge")
        ip("-n", switch, "link", "set", "br0", "up")
        prefix = self.subnet.prefixlen
        for n, (host, address) in enumerate(self.addresses.items()):
            self._add_namespace(self.ns(host))
            ip("link", "add", f"port{n}", "netns", switch, "type", "veth",
               "peer", "name", "eth0", "netns", self.ns(host))  # fmt: skip
            ip("-n", switch, "link", "set", f"port{n}", "master", "br0", "up")
            ip("-n", self.ns(host), "addr", "add", f"{address}/{prefix}", "dev", "eth0")
            ip("-n", self.ns(host), "link", "set", "eth0", "up")
        # The root namespace's leg: deleting the switch namespace deletes it too.
        self.root_link = f"dx{self.id}"
        ip("link", "add", self.root_link, "type", "veth",
           "peer", "name", "root", "netns", switch)  # fmt: skip
        ip("-n", switch, "link", "set", "root", "master", "br0", "up")
        ip("addr", "add", f"{self.gateway}/{prefix}", "dev", self.root_link)
        ip("link", "set", self.root_link, "up")
        return self

    def delay(self) -> bool:
        """``netem delay`` on every host's way out (and the root's): one hop
        costs ``delay_ms`` each way. False when the kernel has no netem."""
        links = [[*self.wrap(host), "tc"] for host in self.addresses]
        for tc in links:
            added = subprocess.run(
                [*tc, "qdisc", "add", "dev", "eth0", "root", "netem",
                 "delay", f"{self.delay_ms}ms"],
                capture_output=True, text=True,
            )  # fmt: skip
            if added.returncode != 0:
                warnings.warn(
                    f"no netem delay between the hosts: {added.stderr.strip()} "
                    "(this kernel is built without sch_netem)",
                    stacklevel=2,
                )
                return False
        subprocess.run(
            ["tc", "qdisc", "add", "dev", self.root_link, "root", "netem",
             "delay", f"{self.delay_ms}ms"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.delayed = True
        return True

    def cut(self, host: str, other: str) -> None:
        """Drop every packet between ``host`` and ``other``, silently, both ways:
        open connections hang and new ones time out, as in a real partition."""
        peer = self.address(other)
        hook = "type filter hook {} priority 0; ip {} " + peer + " drop;"
        rules = (
            f"table inet {CUT_TABLE} {{\n"
            f"  chain in {{ {hook.format('input', 'saddr')} }}\n"
            f"  chain out {{ {hook.format('output', 'daddr')} }}\n"
            "}\n"
        )
        subprocess.run(
            [*self.wrap(host), "nft", "-f", "-"],
            input=rules, text=True, check=True, capture_output=True,
        )  # fmt: skip

    def heal(self, host: str) -> None:
        """Lift every cut made on ``host``."""
        subprocess.run(
            [*self.wrap(host), "nft", "delete", "table", "inet", CUT_TABLE],
            check=True, capture_output=True,
        )  # fmt: skip

    def destroy(self) -> None:
        """Kill what still runs on the hosts (by pid), then remove the namespaces;
        their links go with them."""
        for name in reversed(self.namespaces):
            pids = ip("netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", name, check=False)
        self.namespaces.clear()
        ip("link", "del", f"dx{self.id}", check=False)


class SimulatedSite(Topology):
    """The production layout over three hosts and the root namespace:

    - ``app1`` and ``app2`` run one daphne each, on port 8000 of their address;
    - ``data`` runs Redis (6379) and PostgreSQL (5432), and nothing else;
    - nginx, in the root namespace, balances the two daphnes, as the front
      machine of a real site does (deploy/nginx/duplex.conf).
    """

    feeds_wrap = None  # no feed process: the tests here are about chat

    def __init__(self, root: Path, **env: str):
        self.net = Network(["app1", "app2", "data"])
        data, wrap = self.net.address("data"), self.net.wrap("data")
        self.redis = RedisProcess(root, host=data, port=6379, wrap=wrap)
        self.postgres = PostgresProcess(
            host=data, port=5432, wrap=wrap, clients=str(self.net.subnet),
            # docs/deploy.md: a session an app host left mid-transaction
            # (partitioned) must not hold the room's row lock for long.
            settings=["idle_in_transaction_session_timeout=5s"],
        )  # fmt: skip
        apps = ",".join(self.net.address(host) for host in ("app1", "app2"))
        env = {"ALLOWED_HOSTS": f"127.0.0.1,localhost,{apps}", **env}
        super().__init__(self.postgres.url, self.redis.url, "duplex", root, **env)

    def make_daphnes(self) -> list[DaphneProcess]:
        return [
            DaphneProcess(self.env, self.root, host, host=self.net.address(host),
                          port=8000, wrap=self.net.wrap(host))
            for host in ("app1", "app2")
        ]  # fmt: skip

    def manage(self, host: str, *args: str) -> str:
        """``manage.py`` on ``host``, as an operator would run it there."""
        done = subprocess.run(
            [*self.net.wrap(host), sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout

    def start(self, setup: str = "") -> "SimulatedSite":
        """Network, data host, the schema and ``setup`` (Python run by
        ``manage.py shell``; its output is kept in ``setup_output``), then
        the delay, then daphnes and nginx."""
        collecting = self.collectstatic()  # needs neither database nor network
        try:
            self.net.create()
            self.postgres.init().start()
            self.redis.start()
            # One Django start-up for the schema and the setup.
            script = "from django.core.management import call_command\n"
            script += "call_command('migrate', verbosity=0)\n" + setup
            self.setup_output = self.manage("app1", "shell", "-v0", "-c", script)
            self.net.delay()
        except BaseException:
            collecting.kill()
            collecting.wait()
            raise
        return super().start(collecting)

    def sql(self, query: str) -> list[str]:
        """Rows of ``query`` on the data host's PostgreSQL, one string a row."""
        done = subprocess.run(
            ["psql", "-h", self.postgres.host, "-p", str(self.postgres.port),
             "-U", "postgres", "-At", "-c", query],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout.splitlines()

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            try:
                self.redis.stop()
                self.postgres.destroy()
            finally:
                self.net.destroy()
