"""docs/protocol.md documents every close code and error code the code can send."""

import re
from pathlib import Path

from realtime.core.envelope import CloseCode, ErrorCode

DOC = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()


def table_first_column(doc: str) -> set[str]:
    return set(re.findall(r"^\| `?([\w.]+)`? \|", doc, flags=re.MULTILINE))


def test_every_close_code_is_documented():
    """Each CloseCode has a row in the close-code table."""
    documented = table_first_column(DOC)
    missing = [code.name for code in CloseCode if str(code.value) not in documented]
    assert missing == []


def test_every_error_code_is_documented():
    """Each ErrorCode has a row in the error table."""
    documented = table_first_column(DOC)
    missing = [code.value for code in ErrorCode if code.value not in documented]
    assert missing == []
