"""Files that are not stimctl journals at all: `journal verify` and `report` refuse them
as bad input (exit 2), not as tampered journals (exit 8)."""

from __future__ import annotations

NOT_JOURNALS = {
    "text.txt": b"hello\n",
    "other.json": b'{"a": 1}\n',
    "binary.jsonl": b"\x00\x01garbage",
    "empty.jsonl": b"",
    "list.jsonl": b"[1, 2, 3]\n[4]\n",
}
