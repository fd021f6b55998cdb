"""RFC 6455 and RFC 7692 conformance of /ws/echo/ on daphne: the Autobahn cases,
run by kosoku.

Sections 1-7 and 10 must all pass. NON-STRICT verdicts count as passes (kosoku's
``passed``); docs/protocol.md ("Conformance") lists them and why daphne gives them.
Of the compression sections 12 and 13, a subset runs (``run_autobahn.COMPRESSION``).
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


def autobahn(server, *cases: str, timeout: float) -> list[dict]:
    """Run the runner against the server's echo; one dict per case."""
    run = subprocess.run(
        [sys.executable, str(RUNNER), server.ws_url + "/ws/echo/", *cases],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = run.stdout.splitlines()
    print(lines[-1] if lines else run.stderr[-2000:])
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_autobahn_sections_1_to_7_and_10_pass(daphne):
    """All 247 cases pass on a production configuration, including the empty
    messages daphne alone would drop. kosoku sends no Origin: the echo is
    public, so no ``ALLOWED_HOSTS=*`` is needed."""
    server = daphne(redis=False, **PRODUCTION)
    cases = autobahn(server, timeout=120)
    assert len(cases) == 247
    failed = [c for c in cases if not c["passed"]]
    assert failed == []


def test_autobahn_compression_cases_of_12_and_13_pass(daphne):
    """36 permessage-deflate cases are OK on a production configuration: in each
    group of 12 (12.1-12.5: JSON, a bitmap, German text, HTML, a PDF) and of 13
    (13.1-13.7: the offers and answers about context takeover and window bits,
    and a list of offers) the cases .1 (1000 messages of 16 bytes), .10 (of
    128 KiB) and .11 (of 8 KiB in 256-byte frames). The whole sections, 432
    cases of 1000 messages each, take most of an hour."""
    server = daphne(redis=False, **PRODUCTION)
    cases = autobahn(server, "compression", timeout=600)
    assert [c["case"] for c in cases] == [
        f"{section}.{group}.{size}"
        for section, groups in (("12", 5), ("13", 7))
        for group in range(1, groups + 1)
        for size in (1, 10, 11)
    ]
    # OK, not UNIMPLEMENTED: every case ran compressed, both ways.
    assert [c for c in cases if c["behavior"] != "OK" or c["close"] != "OK"] == []
    assert {c["extensions"].split(";")[0] for c in cases} == {"permessage-deflate"}
