"""What the run prints and writes: machine facts, tables, target ratios, a chart."""

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from bench import compression, fallback, product_report
from bench.servers import ROOT

TARGET_VS_STOCK = 5.0
TARGET_VS_CEILING = 0.8
PACKAGES = [
    "django",
    "channels",
    "daphne",
    "channels-redis",
    "twisted",
    "autobahn",
    "redis",
    "websockets",
    "picows",
    "hdrhistogram",
]


def machine(redis_url: str) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions.update(node_versions())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": versions,
        "redis_server": _redis_version(redis_url),
    }


def node_versions() -> dict:
    """Node.js and the ``ws-node`` ceiling's packages (bench/node_modules)."""
    versions = {}
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True)
        versions["node"] = out.stdout.strip().lstrip("v") or None
    except OSError:
        versions["node"] = None
    for name in ("ws", "bufferutil"):
        manifest = ROOT / "bench" / "node_modules" / name / "package.json"
        try:
            versions[name] = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            versions[name] = None
    return versions


def _redis_version(url: str) -> str | None:
    try:
        import redis

        return redis.Redis.from_url(url).info("server")["redis_version"]
    except Exception:
        return None


async def forget_redis_keys(url: str, prefix: str) -> None:
    """Delete the run's channel-layer keys (groups would otherwise live a day)."""
    try:
        import redis.asyncio as aioredis

        client = aioredis.from_url(url)
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
        await client.aclose()
    except Exception as exc:
        print(f"Could not clean Redis keys {prefix}*: {exc}")


def best_held(result) -> float | None:
    if not isinstance(result, dict) or "steps" not in result:
        return None
    return (result.get("best") or {}).get("deliveries_per_s", 0)


def _throughput(result) -> float | None:
    """The most a server delivered per second in any step, however late (loss-free
    steps if there are any). Generous to a server that never held the latency
    limit: the stock peer is judged by its throughput, Duplex by what it holds."""
    if not isinstance(result, dict) or not result.get("steps"):
        return None
    steps = [s for s in result["steps"] if not s["lost"]] or result["steps"]
    return max(s["deliveries_per_s"] for s in steps)


def _ratio(a, b):
    if a is None or b is None:
        return None
    return round(a / b, 2) if b else None


def informative(ratio) -> dict:
    """A ratio printed with the targets that has no goal (against ``ws-node``)."""
    return {"ratio": ratio, "target": None, "met": None}


def targets(results: dict) -> dict:
    """The issue's targets as ratios from this run, each with pass/fail (only
    those of the scenarios that ran: ``--only rolling`` prints no fan-out goal)."""
    scenarios = results["scenarios"]
    fan = scenarios.get("fanout", {})
    out = {}
    for layer in ("memory", "redis") if "fanout" in scenarios else ():
        duplex = best_held(fan.get(f"duplex-{layer}"))
        stock = _throughput(fan.get(f"stock-{layer}"))
        ceiling = best_held(fan.get("websockets"))
        vs_stock = _ratio(duplex, stock)
        vs_ceiling = _ratio(duplex, ceiling)
        out[f"fanout_{layer}_vs_stock"] = {
            "ratio": vs_stock,
            "stock_throughput": stock,
            "target": TARGET_VS_STOCK,
            "met": vs_stock is not None and vs_stock >= TARGET_VS_STOCK,
        }
        out[f"fanout_{layer}_vs_websockets"] = {
            "ratio": vs_ceiling,
            "target": TARGET_VS_CEILING,
            "met": vs_ceiling is not None and vs_ceiling >= TARGET_VS_CEILING,
        }
        if "ws-node" in fan:
            out[f"fanout_{layer}_vs_ws_node"] = informative(
                _ratio(duplex, best_held(fan.get("ws-node")))
            )
    if "storm" in scenarios:
        storm = scenarios["storm"].get("duplex-redis", {})
        out["storm_handshake_failures"] = {
            "value": storm.get("failures"),
            "target": 0,
            "met": storm.get("failures") == 0,
        }
    losses = 0
    for name in ("fanout", "quotes", "scaleout"):
        for server, result in scenarios.get(name, {}).items():
            if server.startswith("duplex") and isinstance(result, dict):
                losses += result.get("losses_below_saturation", 0) or 0
    out["duplex_losses_below_saturation"] = {
        "value": losses,
        "target": 0,
        "met": losses == 0,
    }
    out.update(product_report.targets(scenarios))
    return out


def _fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(title: str, header: list[str], rows: list[list], md: bool = False) -> str:
    cells = [header] + [[_fmt(c) for c in row] for row in rows]
    if md:
        lines = [f"\n**{title}**\n", "| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join([":--"] + ["--:"] * (len(header) - 1)) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"\n{title}"]
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=False))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _stepped_rows(block: dict) -> list[list]:
    rows = []
    for server, result in block.items():
        if "error" in result:
            rows.append([server, "error: " + result["error"][:60]] + [None] * 9)
            continue
        best = result.get("best") or {}
        steps = result["steps"]
        last = steps[-1] if steps else {}
        rows.append(
            [
                server,
                best.get("deliveries_per_s"),
                _throughput(result),
                best.get("p50_ms"),
                best.get("p99_ms"),
                best.get("max_ms"),
                result.get("losses_below_saturation"),
                best.get("server_us_per_delivery"),
                result.get("stopped_by"),
                last.get("deliveries_per_s"),
                last.get("p99_ms"),
            ]
        )
    return rows


STEPPED_HEADER = [
    "server",
    "held/s",
    "peak/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "lost",
    "server us/msg",
    "stopped by",
    "last step/s",
    "last p99",
]


def run_facts(results: dict) -> str:
    """Where and how the run happened, including how busy the machine was."""
    m = results["machine"]
    others = [
        step["other_cpu"]
        for block in results["scenarios"].values()
        for result in block.values()
        if isinstance(result, dict)
        for step in result.get("steps", ())
        if "other_cpu" in step
    ]
    busy = f"{sum(others) / len(others):.2f}" if others else "-"
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    return "\n".join(
        [
            f"- Run: `{results['mode']}`, {results['started']}, "
            f"{results['seconds']} s, server pinned to CPU "
            f"{results['setup']['server_cpus']}, client to "
            f"{results['setup']['client_cpus']}, fd limit "
            f"{results['setup']['fd_limit']}",
            f"- Machine: {m['nproc']} x {m['cpu']}, {m['ram_gib']} GiB RAM, "
            f"Linux {m['kernel']}, Python {m['python']}, Redis {m['redis_server']}",
            f"- Packages: {packages}",
            f"- Other processes on the machine used {busy} cores on average during "
            "the stepped scenarios (of 2).",
        ]
    )


def tables(results: dict, md: bool = False) -> str:
    """Every scenario's table: plain text for the terminal, or Markdown."""
    s = results["scenarios"]
    parts = []
    for name, title in [
        (
            "fanout",
            "Fan-out, 1 topic. held/s: highest rate with p99 <= 250 ms and no loss;"
            " peak/s: most delivered in any step, however late",
        ),
        ("quotes", "Quotes-like: 200 topics x 5 per subscriber, keyed events"),
        ("scaleout", "Scale-out: fan-out over 2 daphne processes sharing Redis"),
    ]:
        if name in s:
            parts.append(_table(title, STEPPED_HEADER, _stepped_rows(s[name]), md))
    if "echo" in s:
        parts.append(_echo_table(s["echo"], md))
    if "storm" in s:
        parts.append(_storm_table(s["storm"], md))
    if "idle" in s:
        parts.append(_idle_table(s["idle"], md))
    parts += product_report.tables(s, _table, md)
    parts += compression.tables(s, _table, md)
    parts += fallback.tables(s, _table, md)
    parts.append(_targets_table(results.get("targets", {}), md))
    return "\n".join(parts)


def _echo_table(echo: dict, md: bool) -> str:
    rows = []
    for server, result in echo.items():
        if "error" in result:
            rows.append([server, "error", None, None, None, None])
            continue
        for run in result["runs"].values():
            rows.append(
                [
                    server,
                    run["connections"],
                    run["messages_per_s"],
                    run["p50_ms"],
                    run["p99_ms"],
                    run["max_ms"],
                ]
            )
    return _table(
        "Echo: closed-loop round trips",
        ["server", "conns", "msg/s", "p50 ms", "p99 ms", "max ms"],
        rows,
        md,
    )


def _storm_table(storm: dict, md: bool) -> str:
    rows = []
    for server, r in storm.items():
        if "error" in r:
            rows.append([server, "error", None, None, None, None, None, None])
            continue
        rows.append(
            [
                server,
                r["opened"],
                r["connections_per_s"],
                r.get("server_cpu_ms_per_connection"),
                r["handshake"]["p50_ms"],
                r["handshake"]["p99_ms"],
                r["failures"],
                r["server_log_too_many_connections"],
            ]
        )
    return _table(
        "Connect storm: sockets joining 5 of 200 topics, bounded in flight",
        [
            "server",
            "opened",
            "conn/s",
            "server CPU ms/conn",
            "hs p50 ms",
            "hs p99 ms",
            "failures",
            "'Too many connections'",
        ],
        rows,
        md,
    )


def _idle_table(idle: dict, md: bool) -> str:
    rows = []
    for server, r in idle.items():
        if "error" in r:
            rows.append([server, "error", None, None, None])
            continue
        rows.append(
            [
                server,
                r["connections"],
                r["rss_after_mb"],
                r["kib_per_connection"],
                r["idle_cpu_percent"],
            ]
        )
    return _table(
        "Idle connections",
        ["server", "conns", "RSS MiB", "KiB/conn", "idle CPU %"],
        rows,
        md,
    )


def _targets_table(targets: dict, md: bool) -> str:
    rows = []
    for name, t in targets.items():
        value = t.get("ratio", t.get("value"))
        if isinstance(value, float):
            value = f"{value:.2f}"  # 0.78 must not print as a passing 0.8
        if t["target"] is None:
            result = "no goal"
        else:
            result = "met" if t["met"] else "MISSED"
        rows.append([name, value, t["target"], result])
    return _table("Targets", ["target", "value", "goal", "result"], rows, md)
