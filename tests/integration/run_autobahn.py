"""Run Autobahn cases against a WebSocket URL with kosoku.

    python tests/integration/run_autobahn.py ws://127.0.0.1:8000/ws/echo/
    python tests/integration/run_autobahn.py ws://127.0.0.1:8000/ws/echo/ compression

The first runs sections 1-7 and 10; ``compression`` runs the permessage-deflate
subset of sections 12 and 13 in ``COMPRESSION``; further arguments are case ids
or globs (``9.1.*``). Prints one JSON object per case and a summary line. It runs
in its own interpreter: kosoku shims parts of autobahn, which daphne's autobahn
would otherwise shadow.
"""

import asyncio
import json
import sys
from collections import Counter

import kosoku

SECTIONS = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]

# Each 12.x/13.x case echoes 1000 messages; the 432 of both sections take
# hours. The subset: in each of the 5 payload groups of 12 (JSON, a bitmap,
# German text, HTML, a PDF) and the 7 offer/accept groups of 13 (context
# takeover and window bits asked for by either side, and a list of offers),
# the smallest messages (16 bytes), the largest whole ones (128 KiB, many times
# the window) and the first fragmented ones (8 KiB in 256-byte frames):
# 12.g.1, 12.g.10, 12.g.11 and the same in 13.
COMPRESSION_SIZES = (1, 10, 11)
COMPRESSION = [
    f"{section}.{group}.{size}"
    for section, groups in (("12", 5), ("13", 7))
    for group in range(1, groups + 1)
    for size in COMPRESSION_SIZES
]


async def run(url: str, cases: list[str]):
    try:
        return await kosoku.run_fuzzingclient(
            url, cases=cases, exclude_cases=[], concurrency=4
        )
    except kosoku.FailureError as failure:
        return failure.results


def extensions(response: str) -> str | None:
    """The Sec-WebSocket-Extensions the server answered, if any."""
    for line in response.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-extensions":
            return value.strip()
    return None


def selection(args: list[str]) -> list[str]:
    """The cases the command line names: SECTIONS by default."""
    if args == ["compression"]:
        return COMPRESSION
    return args or SECTIONS


def main() -> int:
    results = asyncio.run(run(sys.argv[1], selection(sys.argv[2:])))
    for r in results:
        print(
            json.dumps(
                {
                    "case": r.case_id,
                    "passed": r.passed,
                    "behavior": r.behavior.value,
                    "close": r.behavior_close.value,
                    "result": r.result,
                    "ms": r.duration,
                    "extensions": extensions(r.http_response),
                }
            )
        )
    verdicts = Counter(r.behavior.value for r in results)
    passed = sum(r.passed for r in results)
    print(
        f"autobahn: {passed} passed, {len(results) - passed} failed; "
        f"verdicts {dict(verdicts)}"
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
