"""The worked example of docs/testing.md, as files: the doc is what the tests run."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
_BLOCK = re.compile(r"<!-- file: (?P<name>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```", re.S)


def example_files() -> dict[str, str]:
    """`relative path` -> content of every block marked `<!-- file: ... -->` in the doc."""
    files = {m["name"]: m["body"] for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    assert files, f"{DOC} has no example files"
    return files
