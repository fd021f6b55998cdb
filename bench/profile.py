"""One server, one fan-out rate, optionally under py-spy.

    python -m bench.profile duplex-redis --rate 40 --seconds 8 [--py-spy prof.txt]

Starts the server as the suite does (pinned to CPU 0, this client to CPU 1),
opens 1,000 subscribers on one topic, warms up, publishes at a fixed rate and
prints the step's figures as JSON: deliveries/s, latency, losses and the
server's CPU per delivery, the figure to compare between two versions of the
engine. With ``--py-spy FILE`` it records the server meanwhile (raw format:
one ``stack count`` line per stack; needs ``pip install py-spy``).
"""

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from bench.servers import SPECS, Server, pin_client, raise_fd_limit
from bench.stepper import Stepper

FIGURES = (
    "rate",
    "deliveries_per_s",
    "p50_ms",
    "p99_ms",
    "lost",
    "server_cpu",
    "client_cpu",
    "server_us_per_delivery",
)


async def run(args) -> dict:
    raise_fd_limit()
    pin_client()
    prefix = f"duplex-profile-{uuid.uuid4().hex[:8]}"
    server = Server(
        SPECS[args.server], args.redis_url, prefix, Path(tempfile.mkdtemp())
    )
    server.start()
    spy = None
    try:
        stepper = Stepper([server], [["bench.fan"]] * args.subscribers, "e")
        await stepper.connect()
        await stepper.warm_up()
        if args.py_spy:
            command = [shutil.which("py-spy") or "py-spy", "record", "--format", "raw"]
            command += ["--pid", str(server.proc.pid), "-o", str(args.py_spy)]
            command += ["--rate", "200", "--duration", str(int(args.seconds))]
            spy = await asyncio.create_subprocess_exec(
                *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        step = await stepper.step(1, args.rate, args.seconds)
        if spy is not None:
            await asyncio.wait_for(spy.wait(), args.seconds + 30)
        for pool in stepper.pools:
            await pool.close_all()
        return {name: step[name] for name in FIGURES}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__
    )
    parser.add_argument("server", choices=sorted(SPECS))
    parser.add_argument("--rate", type=float, default=40, help="publishes/s")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--py-spy", type=Path, help="record the server to FILE")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
