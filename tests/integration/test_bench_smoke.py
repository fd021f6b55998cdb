"""The benchmark suite runs end to end (a smoke-sized load; no timing asserted)."""

import json
import subprocess
import sys

import pytest

from bench.scenarios import SCENARIOS
from tests.servers import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(600)
def test_bench_smoke_runs_every_scenario_against_every_server(tmp_path):
    """`python -m bench --smoke` exits 0 and its JSON holds every scenario, each
    with a result (not an error) from every server it lists, and the chart."""
    out = tmp_path / "smoke.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["mode"] == "smoke"
    for scenario, (_, servers, _) in SCENARIOS.items():
        block = results["scenarios"][scenario]
        assert sorted(block) == sorted(servers), scenario
        for server, result in block.items():
            assert "error" not in result, (scenario, server, result)
    assert set(results["targets"]) >= {"storm_handshake_failures"}
    assert out.with_suffix(".png").stat().st_size > 0
