"""RFC 6455 conformance of /ws/echo/ on daphne: the Autobahn cases, run by kosoku.

Sections 1-7 and 10 must all pass. NON-STRICT verdicts count as passes (kosoku's
``passed``); docs/protocol.md ("Conformance") lists them and why daphne gives them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.conformance]

RUNNER = Path(__file__).with_name("run_autobahn.py")


# What an operator runs: DEBUG off, a real SECRET_KEY and host list. The
# WebSocket handshake never passes through Django's SecurityMiddleware, so
# SECURE_SSL_REDIRECT stays on (/healthz, which the fixture polls, is exempt).
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "conformance-run-" + "k" * 50,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}


def test_autobahn_sections_1_to_7_and_10_pass(daphne):
    """All 247 cases pass on a production configuration, including the empty
    messages daphne alone would drop. kosoku sends no Origin: the echo is
    public, so no ``ALLOWED_HOSTS=*`` is needed."""
    server = daphne(redis=False, **PRODUCTION)
    run = subprocess.run(
        [sys.executable, str(RUNNER), server.ws_url + "/ws/echo/"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = run.stdout.splitlines()
    cases = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(cases) == 247, run.stderr[-2000:]
    failed = [c for c in cases if not c["passed"]]
    assert failed == []
    print(lines[-1])
