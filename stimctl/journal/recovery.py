"""Crash recovery: find journals a dead process left open, and close them truthfully.

A journal without its seal belongs either to a running session (its writer holds the
file's lock) or to a process that died. `close_interrupted` verifies such a journal, cuts
off a torn last line (a crash mid-write; its bytes are kept in the closing record),
counts the pulses the journal vouches for and appends `session_end` with status
"interrupted" and the seal, written by actor "recovery". A journal that has its
`session_end` but lost the seal to a power cut between the two gets only the seal.

Whether a journal *may* be recovered is not decided here: a journal cut after the session
ended looks like a crash to the file alone. `stimctl.records.journal_check.recover_journals`
asks the store (and the signatures) first; use that, not this, from commands.

The closing record's ``mono`` comes from the recovering process's clock: monotonic time
is only comparable within one process, so it is not comparable with the records before.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stimctl.clock import Clock
from stimctl.journal import events
from stimctl.journal.errors import JournalClosed, JournalTampered
from stimctl.journal.fsutil import is_locked, lock_exclusive
from stimctl.journal.pulses import PulseCount, PulseTally
from stimctl.journal.record import JournalRecord
from stimctl.journal.verify import read_bytes, verify_bytes
from stimctl.journal.writer import INSTALLATION_KEY, JOURNAL_SUFFIX, Journal, WallClock

if TYPE_CHECKING:
    from stimctl.journal.signing import Signer


@dataclass(frozen=True)
class RecoverySummary:
    """What `close_interrupted` found and wrote."""

    path: Path
    pulses_delivered: int
    count: PulseCount
    torn_bytes: int
    """Bytes of the torn last line that was cut off (0 if the file ended cleanly)."""
    records: int
    """Records in the journal after recovery, the closing record included."""
    head: str
    """The new chain head (to store with the session)."""
    closing_record: JournalRecord
    resealed: bool = False
    """True if the journal was already closed and only its seal was written."""


def find_unfinished(directory: Path | str, *, include_live: bool = False) -> list[Path]:
    """Journals (``*.jsonl``) in `directory` whose last complete line is not the seal.

    Journals a live process holds open are left out unless `include_live`. The files are
    not verified here; `close_interrupted` does that. A missing directory has none.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    unfinished = []
    for path in sorted(directory.glob(f"*{JOURNAL_SUFFIX}")):
        if not path.is_file() or _last_event(read_bytes(path)) == events.SEAL:
            continue
        if not include_live and is_locked(path):
            continue
        unfinished.append(path)
    return unfinished


def close_interrupted(
    path: Path | str,
    *,
    clock: Clock,
    utc_now: WallClock | None = None,
    signer: Signer | str | None = INSTALLATION_KEY,
) -> RecoverySummary:
    """Close the journal of a session whose process died, with status "interrupted".

    `signer` signs the seal (default: the installation's active key, if any).
    Raises `JournalBusy` if a live process still writes it, `JournalClosed` if it is
    already sealed, `JournalTampered` if its chain is broken (evidence is never altered:
    a torn line is cut only from a journal whose chain verifies), `ConfigError` if it is
    missing or unreadable.
    """
    path = Path(path)
    if isinstance(signer, str):
        from stimctl.keys.files import load_active_signer

        signer = load_active_signer()
    read_bytes(path)  # a clear ConfigError for a missing or unreadable file
    fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
    adopted = False
    try:
        lock_exclusive(fd, path)
        data = read_bytes(path)
        result = verify_bytes(data)
        if not result.ok:
            raise JournalTampered(
                f"journal {path} is tampered (line {result.first_bad_line}: {result.reason});"
                " not closing it",
                result,
            )
        if result.sealed:
            raise JournalClosed(f"journal {path} is already closed ({result.status})")
        if result.truncated:
            # Cut the torn line so the closing record starts on a line of its own.
            os.ftruncate(fd, len(data) - len(result.torn_tail))
            os.fsync(fd)
        records: list[JournalRecord] = [
            json.loads(line) for line in data.split(b"\n")[: result.records]
        ]
        tally = PulseTally()
        for record in records:
            tally.add(record)
        count = tally.count()
        journal = Journal._reopen(
            path,
            fd,
            clock=clock,
            utc_now=utc_now,
            next_seq=result.records,
            head=result.head,
            ended=result.closed,
            status=result.status,
            signer=signer,
            tally=tally,
        )
        adopted = True
        with journal:
            if result.closed:
                seal = journal.seal(actor=events.ACTOR_RECOVERY)
                return RecoverySummary(
                    path=path,
                    pulses_delivered=count.pulses,
                    count=count,
                    torn_bytes=len(result.torn_tail),
                    records=journal.records,
                    head=journal.head,
                    closing_record=seal,
                    resealed=True,
                )
            if not records:
                journal.append(
                    events.SESSION_START,
                    {"recovered": True, "note": "no session_start reached the disk"},
                    actor=events.ACTOR_RECOVERY,
                )
            closing = journal.append(
                events.SESSION_END,
                _closing_payload(records, count, result.torn_tail),
                actor=events.ACTOR_RECOVERY,
            )
            return RecoverySummary(
                path=path,
                pulses_delivered=count.pulses,
                count=count,
                torn_bytes=len(result.torn_tail),
                records=journal.records,
                head=journal.head,
                closing_record=closing,
            )
    finally:
        if not adopted:
            os.close(fd)


def _closing_payload(
    records: list[JournalRecord], count: PulseCount, torn_tail: bytes
) -> dict[str, Any]:
    last = records[-1] if records else None
    return {
        "status": events.STATUS_INTERRUPTED,
        "pulses_delivered": count.pulses,
        "pulse_count_exact": count.exact,
        "pulses_delivered_upper": count.upper_bound,
        "count_exact": count.bounded_exactly,
        "open_trains": list(count.open_trains),
        "uncounted_trains": list(count.uncounted_trains),
        "mismatched_trains": list(count.mismatched_trains),
        "last_seq": last["seq"] if last else None,
        "last_utc": last["utc"] if last else None,
        "torn_tail": (
            {"bytes": len(torn_tail), "base64": base64.b64encode(torn_tail).decode("ascii")}
            if torn_tail
            else None
        ),
    }


def _last_event(data: bytes) -> str | None:
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.rstrip(b"\n").rsplit(b"\n", 1)
    try:
        record = json.loads(lines[-1])
    except ValueError:
        return None
    event = record.get("event") if isinstance(record, dict) else None
    return event if isinstance(event, str) else None
