"""The suite's chart: sustained deliveries per server, and p99 as the rate climbs."""

from pathlib import Path

from bench.report import best_held
from bench.scenarios import EVERY_SERVER

NAMES = EVERY_SERVER
COLORS = {
    "duplex-memory": "#1f77b4",
    "duplex-redis": "#6baed6",
    "stock-memory": "#d62728",
    "stock-redis": "#ff9896",
    "websockets": "#2ca02c",
    "ws-node": "#98df8a",
}


def chart(results: dict, path: Path) -> None:
    """Bars of sustained deliveries/s, and p99 against offered load per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["scenarios"]
    fig, (bars, lines) = plt.subplots(1, 2, figsize=(12, 4.5))
    _sustained_bars(bars, s)
    _latency_lines(lines, s)
    fig.suptitle(
        f"Duplex bench ({results['mode']}, {results['machine']['nproc']} cores, "
        f"{results['started'][:10]})"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _sustained_bars(bars, s: dict) -> None:
    """Per scenario, one bar per server: the best rate held within the p99 goal."""
    groups = [g for g in ("fanout", "quotes", "scaleout") if g in s]
    width = 0.8 / len(NAMES)
    for i, name in enumerate(NAMES):
        values = [best_held(s[g].get(name)) or 0 for g in groups]
        xs = [g + (i - len(NAMES) / 2 + 0.5) * width for g in range(len(groups))]
        bars.bar(xs, values, width, label=name, color=COLORS[name])
    bars.set_xticks(range(len(groups)), groups)
    bars.set_ylabel("deliveries/s at p99 <= 250 ms, no loss")
    bars.set_title("Sustained fan-out (higher is better)")
    bars.legend(fontsize=8, loc="upper right", ncol=2)
    bars.set_ylim(top=bars.get_ylim()[1] * 1.3)  # room for the legend


def _latency_lines(lines, s: dict) -> None:
    """Fan-out p99 against the delivered rate, one line per server."""
    for name in NAMES:
        result = s.get("fanout", {}).get(name)
        if not isinstance(result, dict) or "steps" not in result:
            continue
        points = [
            (st["deliveries_per_s"], st["p99_ms"])
            for st in result["steps"]
            if st["p99_ms"] is not None
        ]
        if points:
            points.sort()  # bisection steps come after the climb: plot by rate
            lines.plot(
                *zip(*points, strict=False), marker="o", label=name, color=COLORS[name]
            )
    lines.axhline(250, color="grey", linestyle="--", linewidth=1)
    lines.set_xscale("log")
    lines.set_yscale("log")
    lines.set_xlabel("deliveries/s (1 topic)")
    lines.set_ylabel("p99 latency, ms")
    lines.set_title("Fan-out latency as the rate steps up")
    lines.legend(fontsize=8)
