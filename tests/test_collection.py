"""The suite collects on a machine without PostgreSQL installed."""

import subprocess
import sys

from tests.servers import ROOT

# Run pytest's collection as if /usr/lib/postgresql did not exist.
WITHOUT_POSTGRES = """
import os, sys
real_listdir = os.listdir

def listdir(path="."):
    if str(path).startswith("/usr/lib/postgresql"):
        raise FileNotFoundError(2, "No such file or directory", str(path))
    return real_listdir(path)

os.listdir = listdir
import pytest
sys.exit(pytest.main(["-p", "no:cacheprovider", "--collect-only", "-q", "tests"]))
"""


def test_collecting_the_tests_needs_no_postgresql_binaries():
    """Only the tests that start a private PostgreSQL need its binaries, and only
    when they run: collecting every test works without them."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_POSTGRES],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "test_outages.py::" in result.stdout
