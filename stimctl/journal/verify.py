"""Verification of a journal: the hash chain, the sequence and the record structure.

What `verify` reports, and why:

* **Tampered** (``ok`` is False): a complete line (one ending in ``\\n``) that is not a
  canonical, well-formed record; a ``seq`` out of order (a deleted, reordered or inserted
  line); a ``prev`` that does not match the line before it (an edited line); anything
  after the closing ``session_end`` record; or, when the caller passes ``expected_head``
  (the chain head kept in the record store), a chain that no longer contains that head
  (the last records were edited or removed). ``first_bad_line`` is the 1-based line the
  evidence points at: for an edited line, the edited line itself (found because the
  next line no longer chains to it); for a missing or reordered line, the first line
  out of sequence; for an inserted line, the inserted line.
* **Truncated last record** (``ok`` is True, ``truncated`` True): the file does not end
  with ``\\n``, or its last line holds NUL bytes and is no record (the zero-filled block
  a power cut can leave of an unsynced write; the writer never emits NUL). The writer
  puts a whole line in one append-mode write and fsyncs it before it returns, so the
  only way to get such a last line is a crash in the middle of that write: it is the
  record of an append that never returned, it is recoverable (`recovery.close_interrupted`
  cuts it off and keeps its bytes) and it is not counted.
  A partial line anywhere else is not a crash: a line without ``\\n`` followed by more
  lines is simply a malformed line, and reported as tampering.

Without ``expected_head`` an edit to the *last* record that keeps it canonical JSON
cannot be seen by anyone (nothing chains to it yet); that is what the stored head is for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stimctl.errors import ConfigError
from stimctl.journal import events
from stimctl.journal.errors import JournalTampered
from stimctl.journal.record import GENESIS, JournalRecord, encode, line_hash, schema_problem

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class VerifyResult:
    """The verdict on one journal.

    ``records`` counts complete lines; ``head`` is the SHA-256 of the last complete line
    (`record.GENESIS` if there is none). ``truncated`` says a torn last line (``torn_tail``,
    its bytes) follows them; ``closed`` that the last record is ``session_end`` with
    ``status``.
    """

    ok: bool
    records: int
    head: str
    first_bad_line: int | None
    reason: str
    truncated: bool = False
    torn_tail: bytes = b""
    closed: bool = False
    status: str | None = None
    sealed: bool = False
    """The last record is the seal written after ``session_end``."""

    @property
    def tampered(self) -> bool:
        return not self.ok


class _Bad(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a journal file; a missing or unreadable file is a `ConfigError`."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"no journal at {path}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read journal {path}: {exc.strerror or exc}") from exc


def verify(path: Path | str, *, expected_head: str | None = None) -> VerifyResult:
    """Verify the journal file at `path` (see the module docstring for the verdicts)."""
    return verify_bytes(read_bytes(path), expected_head=expected_head)


def read(path: Path | str, *, expected_head: str | None = None) -> list[JournalRecord]:
    """The records of a verified journal, in order (a torn last line is not a record).

    Raises `JournalTampered` if `verify` finds tampering, `ConfigError` if the file is
    missing or unreadable.
    """
    data = read_bytes(path)
    result = verify_bytes(data, expected_head=expected_head)
    if not result.ok:
        raise JournalTampered(
            f"journal {path} is tampered: line {result.first_bad_line}: {result.reason}", result
        )
    return [_parse(line) for line in data.split(b"\n")[: result.records]]


def verify_bytes(data: bytes, *, expected_head: str | None = None) -> VerifyResult:
    """Verify journal content held in memory."""
    if expected_head is not None:
        expected_head = expected_head.lower()
        if _HEX64.fullmatch(expected_head) is None:
            raise ConfigError(f"expected head {expected_head!r} is not a SHA-256 hex digest")
    parts = data.split(b"\n")
    lines, tail = parts[:-1], parts[-1]
    if not tail and lines and _zero_filled_wreck(lines[-1], len(data) - len(lines[-1]) - 1):
        tail = lines.pop() + b"\n"
    hashes = [line_hash(line) for line in lines]
    head = hashes[-1] if hashes else GENESIS
    try:
        status, sealed = _check_lines(lines, hashes, expected_head)
        if tail and sealed:
            raise _Bad(len(lines) + 1, "bytes after the seal")
        if expected_head is not None and expected_head != GENESIS and expected_head not in hashes:
            raise _Bad(
                max(len(lines), 1),
                f"the expected chain head {expected_head[:16]}... is not the hash of any"
                " record: records at the end were altered or removed",
            )
    except _Bad as bad:
        return VerifyResult(
            ok=False,
            records=len(lines),
            head=head,
            first_bad_line=bad.line,
            reason=bad.reason,
            truncated=bool(tail),
            torn_tail=tail,
        )
    closed = status is not None
    reason = f"intact: {len(lines)} records"
    reason += f", closed ({status})" if closed else ", unfinished (no session_end)"
    reason += ", sealed" if sealed else ""
    first_bad_line = None
    if tail:
        first_bad_line = len(lines) + 1
        reason += (
            f"; truncated last record at line {first_bad_line} ({len(tail)} bytes,"
            " a crash mid-write: recoverable)"
        )
    return VerifyResult(
        ok=True,
        records=len(lines),
        head=head,
        first_bad_line=first_bad_line,
        reason=reason,
        truncated=bool(tail),
        torn_tail=tail,
        closed=closed,
        status=status,
        sealed=sealed,
    )


def _check_lines(
    lines: list[bytes], hashes: list[str], expected_head: str | None
) -> tuple[str | None, bool]:
    """Raise `_Bad` at the first broken line; return the closing status (None if open)
    and whether the seal follows it."""
    closing_status: str | None = None
    sealed = False
    for index, line in enumerate(lines):
        lineno = index + 1
        record = _parse_checked(line, lineno)
        if sealed:
            raise _Bad(lineno, "a record after the seal")
        if closing_status is not None and record["event"] != events.SEAL:
            raise _Bad(lineno, "a record after the closing session_end record")
        if record["event"] == events.SEAL and closing_status is None:
            raise _Bad(lineno, "a seal that does not follow a session_end record")
        seq_ok = record["seq"] == index
        link_ok = record["prev"] == (hashes[index - 1] if index else GENESIS)
        if not seq_ok:
            if index and not link_ok and record["seq"] == index - 1:
                raise _Bad(
                    lineno - 1,
                    f"line {lineno - 1} was inserted: line {lineno} repeats its seq"
                    f" {index - 1} and does not chain to it",
                )
            raise _Bad(
                lineno,
                f"seq {record['seq']} where {index} was expected: a record is missing,"
                " reordered or renumbered here",
            )
        if not link_ok:
            if index == 0:
                raise _Bad(1, "prev of the first record is not the genesis value")
            if _unattested(index, lines, hashes, expected_head):
                raise _Bad(
                    lineno,
                    f"line {lineno} was altered: its prev does not match line {lineno - 1}"
                    " and its hash does not match what follows it",
                )
            raise _Bad(
                lineno - 1,
                f"line {lineno - 1} was altered: its hash does not match the prev stored in"
                f" line {lineno}",
            )
        if record["event"] == events.SESSION_END:
            status = record["payload"].get("status")
            closing_status = status if isinstance(status, str) else "unknown"
        elif record["event"] == events.SEAL:
            sealed = True
    return closing_status, sealed


def _zero_filled_wreck(line: bytes, start: int) -> bool:
    """A last line with NUL bytes that is not a record: after a power cut, a filesystem
    may persist a later block of an unsynced write before an earlier one, leaving zeros
    where the earlier bytes were. The writer never emits NUL (JSON escapes it).

    Zeros from a power cut come in whole filesystem blocks: every run of NUL bytes starts
    where the torn write started (the line's `start` in the file, the old end of file) or
    on a block boundary, and ends on a block boundary. Anything else (one NUL where a
    newline was, say, which merges two records into one "line") is an edit, not a wreck.
    """
    if b"\x00" not in line:
        return False
    for run in _NUL_RUN.finditer(line):
        run_start, run_end = start + run.start(), start + run.end()
        if run_start != start and run_start % _BLOCK:
            return False
        if run_end % _BLOCK:
            return False
    try:
        _parse_checked(line, 0)
    except _Bad:
        return True
    return False


_BLOCK = 512
"""The smallest block a filesystem or disk persists whole (a sector); filesystem blocks
(typically 4096 bytes) are multiples of it, so their boundaries are boundaries of it."""
_NUL_RUN = re.compile(rb"\x00+")


def _unattested(
    index: int, lines: list[bytes], hashes: list[str], expected_head: str | None
) -> bool:
    """True if the line after `index` (or the expected head) does not chain to it either,
    which singles out line `index` itself as the altered one."""
    if index + 1 < len(lines):
        try:
            following = json.loads(lines[index + 1])
        except ValueError:
            return False
        return not isinstance(following, dict) or following.get("prev") != hashes[index]
    return expected_head is not None and expected_head != hashes[index]


def _parse(line: bytes) -> JournalRecord:
    record: JournalRecord = json.loads(line.decode("utf-8"))
    return record


def _parse_checked(line: bytes, lineno: int) -> JournalRecord:
    try:
        obj: Any = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise _Bad(lineno, "not valid UTF-8 JSON") from None
    problem = schema_problem(obj)
    if problem is not None:
        raise _Bad(lineno, problem)
    try:
        canonical = encode(obj)
    except (TypeError, ValueError):
        raise _Bad(lineno, "not in canonical form") from None
    if canonical != line:
        raise _Bad(lineno, "not in canonical form (the bytes differ from what the writer emits)")
    record: JournalRecord = obj
    return record


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
