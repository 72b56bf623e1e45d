"""Every `type: ignore` in src/ names the error it silences and says why (a comment after it
on the same line, or on the line above). mypy itself refuses an ignore without a code."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "trove"
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[a-z, -]+\])?(?P<after>.*)$")


def unexplained_ignores() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            match = IGNORE.search(line)
            if match is None:
                continue
            above = lines[number - 2].strip() if number > 1 else ""
            explained = "#" in match["after"] or above.startswith("#")
            if not match["codes"] or not explained:
                found.append(f"{path.relative_to(SRC.parent)}:{number}: {line.strip()}")
    return found


def test_every_type_ignore_has_an_error_code_and_a_reason():
    assert unexplained_ignores() == []
