"""The session journal: append-only, hash-chained, fsync'd JSON Lines (ARCHITECTURE rule 7).

The record of truth for what was delivered. `Journal` writes, `verify`/`read` check and
read, `find_unfinished`/`close_interrupted` recover after a crash, and
`stimctl.journal.events` holds the event vocabulary.
"""

from __future__ import annotations

from stimctl.journal import events
from stimctl.journal.errors import (
    InvalidRecord,
    JournalBusy,
    JournalClosed,
    JournalTampered,
    JournalWriteError,
)
from stimctl.journal.paths import journal_path, journals_dir, resolve_journal, stimctl_home
from stimctl.journal.pulses import PulseCount, count_pulses
from stimctl.journal.record import GENESIS, JournalRecord, encode, line_hash
from stimctl.journal.recovery import RecoverySummary, close_interrupted, find_unfinished
from stimctl.journal.verify import VerifyResult, read, verify, verify_bytes
from stimctl.journal.writer import Journal

__all__ = [
    "GENESIS",
    "InvalidRecord",
    "Journal",
    "JournalBusy",
    "JournalClosed",
    "JournalRecord",
    "JournalTampered",
    "JournalWriteError",
    "PulseCount",
    "RecoverySummary",
    "VerifyResult",
    "close_interrupted",
    "count_pulses",
    "encode",
    "events",
    "find_unfinished",
    "journal_path",
    "journals_dir",
    "line_hash",
    "read",
    "resolve_journal",
    "stimctl_home",
    "verify",
    "verify_bytes",
]
