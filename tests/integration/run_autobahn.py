"""Run the Autobahn cases (sections 1-7, 10) against a WebSocket URL with kosoku.

    python tests/integration/run_autobahn.py ws://127.0.0.1:8000/ws/echo/

Prints one JSON object per case and a summary line. It runs in its own
interpreter: kosoku shims parts of autobahn, which daphne's autobahn would
otherwise shadow.
"""

import asyncio
import json
import sys
from collections import Counter

import kosoku

SECTIONS = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]


async def run(url: str):
    try:
        return await kosoku.run_fuzzingclient(
            url, cases=SECTIONS, exclude_cases=[], concurrency=4
        )
    except kosoku.FailureError as failure:
        return failure.results


def main() -> int:
    results = asyncio.run(run(sys.argv[1]))
    for r in results:
        print(
            json.dumps(
                {
                    "case": r.case_id,
                    "passed": r.passed,
                    "behavior": r.behavior.value,
                    "close": r.behavior_close.value,
                    "result": r.result,
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
