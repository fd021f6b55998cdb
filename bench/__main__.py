"""``python -m bench [--smoke] [--only fanout,echo] [--out FILE] [--chart FILE]``.

The product scenarios (room_join, page_load, room_fanout) need PostgreSQL:
``--database-url`` (default ``$BENCH_DATABASE_URL`` or a ``duplex_bench``
database on 127.0.0.1, created and migrated if missing). ``--users`` and
``--in-flight`` size the synthetic storm and the product storms together, so
their connections per second compare; ``--members`` sizes the room fan-out,
``--clients`` the rolling restart.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

from bench import chart as charts
from bench import report
from bench.scenarios import FULL, SCENARIOS, SMOKE, TIMEOUTS
from bench.servers import (
    ROOT,
    SPECS,
    Server,
    can_pin,
    no_pinning,
    pin_client,
    raise_fd_limit,
)

RESULTS = ROOT / "bench" / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny loads, seconds")
    parser.add_argument("--only", help="comma-separated scenarios (default: all)")
    parser.add_argument("--servers", help="comma-separated servers (default: all)")
    parser.add_argument("--out", type=Path, help="JSON file to write")
    parser.add_argument("--chart", type=Path, help="chart image to write")
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place everything"
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="Redis for the layer"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/duplex_bench"
        ),
        help="PostgreSQL for the product scenarios",
    )
    parser.add_argument("--users", type=int, help="storm sizes (synthetic, product)")
    parser.add_argument("--in-flight", type=int, help="storm handshakes in flight")
    parser.add_argument("--members", type=int, help="room fan-out members")
    parser.add_argument("--clients", type=int, help="rolling restart clients")
    return parser.parse_args(argv)


def sized(load, args):
    """The load with the command line's storm and room sizes."""
    changes = {}
    if args.users:
        changes.update(storm_connections=args.users, crowd_users=args.users)
    if args.in_flight:
        changes.update(storm_in_flight=args.in_flight, crowd_in_flight=args.in_flight)
    if args.members:
        changes.update(room_members=args.members)
    if args.clients:
        changes.update(rolling_clients=args.clients)
    return dataclasses.replace(load, **changes)


async def run_one(scenario: str, server_name: str, load, args, prefix, log_dir):
    function, _, processes = SCENARIOS[scenario]
    servers = [
        Server(SPECS[server_name], args.redis_url, prefix, log_dir)
        for _ in range(processes)
    ]
    load_before = round(os.getloadavg()[0], 2)
    try:
        for server in servers:
            server.start()
        result = await asyncio.wait_for(
            function(servers, load), timeout=TIMEOUTS.get(scenario, 300)
        )
        result["loadavg_before"] = load_before
        return result
    except Exception as exc:
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        for server in servers:
            server.stop()


async def main(argv) -> int:
    args = parse_args(argv)
    load = sized(SMOKE if args.smoke else FULL, args)
    os.environ["DATABASE_URL"] = args.database_url  # the servers inherit it
    fd_limit = raise_fd_limit()
    if args.no_pin:
        no_pinning()
    pin_client()
    scenarios = args.only.split(",") if args.only else list(SCENARIOS)
    wanted = set(args.servers.split(",")) if args.servers else None
    prefix = f"duplex-bench-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tempfile.mkdtemp(prefix="duplex-bench-"))
    results = _header(args, load, fd_limit, log_dir)
    started = time.monotonic()
    try:
        for scenario in scenarios:
            _, names, _ = SCENARIOS[scenario]
            results["scenarios"][scenario] = {}
            for name in names:
                if wanted and name not in wanted:
                    continue
                print(f"[{time.monotonic() - started:6.1f}s] {scenario} on {name}")
                results["scenarios"][scenario][name] = await run_one(
                    scenario, name, load, args, prefix, log_dir
                )
    finally:
        await report.forget_redis_keys(args.redis_url, prefix)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = report.targets(results)
    _write(results, args)
    return 0


def _header(args, load, fd_limit: int, log_dir: Path) -> dict:
    """The run's facts, before any scenario: mode, machine, pinning, load."""
    return {
        "mode": "smoke" if args.smoke else "full",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": report.machine(args.redis_url),
        "setup": {
            "pinned": can_pin(),
            "server_cpus": [0] if can_pin() else None,
            "client_cpus": [1] if can_pin() else None,
            "fd_limit": fd_limit,
            "load": load.__dict__,
            "server_logs": str(log_dir),
        },
        "scenarios": {},
    }


def _write(results: dict, args) -> None:
    """Save the JSON, the chart and the Markdown tables; print the tables."""
    out = args.out or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    chart = args.chart or out.with_suffix(".png")
    charts.chart(results, chart)
    out.with_suffix(".md").write_text(
        report.run_facts(results) + "\n" + report.tables(results, md=True) + "\n"
    )
    print(report.tables(results))
    print(f"\nJSON: {out}\nChart: {chart}\nTotal: {results['seconds']}s")


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
