"""Close the rows of sessions whose process died, from their journals.

A ``running`` row is dead when its journal is not locked by a writer (the journal's
``flock`` dies with the process) and its owner process is gone (`stimctl.records.owner`).
Its journal is then closed the way crash recovery closes it (`close_interrupted`: status
``interrupted``, the exact pulse count or a lower bound marked inexact) and the row takes
the journal's status, count and head. A row whose journal is missing or fails
verification is closed as ``interrupted`` with its count marked inexact, so the rules
count it as a full session (`SessionRecord.rule_pulses`), and its `close_note` says so.

Runs inside the caller's write transaction: the session start reconciles the subject's
rows, reads history and inserts its own row in one transaction (`stimctl.records.start`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from stimctl.clock import MonotonicClock
from stimctl.errors import StimctlError
from stimctl.journal import close_interrupted, count_pulses, events, read, verify
from stimctl.journal.errors import JournalBusy, JournalClosed, JournalTampered
from stimctl.journal.fsutil import is_locked
from stimctl.records.models import SESSION_RUNNING, SessionRecord
from stimctl.records.owner import OwnerState, host_name, owner_state
from stimctl.records.sessions import running_rows
from stimctl.records.store import Store
from stimctl.records.values import from_utc_text, utc_text


@dataclass(frozen=True)
class Reconciled:
    """One running row looked at: closed (with what) or left running (and why)."""

    session_id: str
    subject_id: str
    closed: bool
    status: str
    pulses_delivered: int
    pulses_exact: bool
    note: str

    def line(self) -> str:
        if not self.closed:
            return f"{self.session_id} ({self.subject_id}): left running: {self.note}"
        count = f"{self.pulses_delivered}" if self.pulses_exact else f">= {self.pulses_delivered}"
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.session_id} ({self.subject_id}): closed as {self.status},"
            f" {count} pulses delivered{note}"
        )


def reconcile(store: Store, subject_id: str | None = None) -> list[Reconciled]:
    """Reconcile every running row (of `subject_id` if given), in one write transaction."""
    with store.write() as conn:
        # The start lock (a no-op beyond BEGIN IMMEDIATE on SQLite; row locks on
        # PostgreSQL): two consoles never close the same row at once.
        if subject_id is None:
            store.lock_running_subjects(conn)
        else:
            store.lock_subject(conn, subject_id)
        return reconcile_running(conn, subject_id)


def has_running(store: Store, subject_id: str) -> bool:
    """Whether the subject has a running row (read without the start lock)."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT 1 FROM sessions WHERE status = 'running' AND subject_id = ? LIMIT 1",
            (subject_id,),
        ).fetchone()
    return row is not None


def reconcile_running(conn: sqlite3.Connection, subject_id: str | None = None) -> list[Reconciled]:
    """`reconcile` inside the caller's write transaction."""
    return [_reconcile_row(conn, row) for row in running_rows(conn, subject_id)]


def _reconcile_row(conn: sqlite3.Connection, row: SessionRecord) -> Reconciled:
    journal = Path(row.journal_path) if row.journal_path else None
    try:
        locked = journal is not None and journal.is_file() and is_locked(journal)
    except OSError as exc:  # e.g. another user's journal: not ours to judge
        return _left(row, f"its journal cannot be read ({exc.strerror or exc})")
    if locked:
        return _left(row, "its journal is open in a live process")
    state = owner_state(row.owner_host, row.owner_pid, row.owner_token)
    if state is OwnerState.ALIVE:
        return _left(row, f"its process {row.owner_pid} is alive")
    if state is OwnerState.UNKNOWN and row.owner_host not in (None, host_name()):
        return _left(row, f"it runs on host {row.owner_host}; reconcile it there")
    if state is OwnerState.UNKNOWN and journal is None:
        return _left(row, "no owner and no journal on record (not a session stimctl ran)")
    return _close_from_journal(conn, row, journal)


def _close_from_journal(
    conn: sqlite3.Connection, row: SessionRecord, journal: Path | None
) -> Reconciled:
    full = f"counted as a full session ({row.pulses_planned} planned pulses) by the rules"
    now = dt.datetime.now(dt.UTC)
    if journal is None or not journal.is_file():
        note = f"journal missing ({journal or 'none on record'}); {full}"
        return _close_as_full(conn, row, now, note)
    try:
        summary = close_interrupted(journal, clock=MonotonicClock())
    except JournalBusy:
        return _left(row, "its journal is open in a live process")
    except JournalClosed:
        return _from_closed_journal(conn, row, journal, full, now)
    except JournalTampered as exc:
        note = f"journal fails verification ({exc.result.reason}); {full}"
        return _close_as_full(conn, row, now, note)
    except (StimctlError, OSError) as exc:
        note = f"journal unreadable ({exc}); {full}"
        return _close_as_full(conn, row, now, note)
    exact = summary.count.exact
    note = "" if exact else f"count is a lower bound (a train was cut short); {full}"
    ended = from_utc_text(summary.closing_record["utc"])
    return _close(
        conn,
        row,
        events.STATUS_INTERRUPTED,
        summary.pulses_delivered,
        exact,
        summary.head,
        ended,
        note,
    )


def _from_closed_journal(
    conn: sqlite3.Connection, row: SessionRecord, journal: Path, full: str, now: dt.datetime
) -> Reconciled:
    """The journal was closed (by the engine, or by crash recovery) but the process died
    before the row was: the journal's closing record is the truth."""
    result = verify(journal)
    if not result.ok:
        note = f"journal fails verification ({result.reason}); {full}"
        return _close_as_full(conn, row, now, note)
    records = read(journal)
    closing = records[-1]
    count = count_pulses(records)
    exact = count.exact and closing["payload"].get("pulse_count_exact", True) is True
    status = str(closing["payload"].get("status", events.STATUS_INTERRUPTED))
    note = "" if exact else f"count is a lower bound; {full}"
    return _close(
        conn, row, status, count.pulses, exact, result.head, from_utc_text(closing["utc"]), note
    )


def _close(
    conn: sqlite3.Connection,
    row: SessionRecord,
    status: str,
    pulses: int,
    exact: bool,
    head: str | None,
    ended_at: dt.datetime,
    note: str,
) -> Reconciled:
    if pulses < row.pulses_delivered:
        # The row saw more pulses (progress after a train) than the journal holds now.
        note = (
            f"the journal counts {pulses} pulses, fewer than the {row.pulses_delivered} on"
            f" record; {note or 'counted as a full session by the rules'}"
        )
        pulses, exact = row.pulses_delivered, False
    conn.execute(
        "UPDATE sessions SET status = ?, pulses_delivered = ?, pulses_exact = ?,"
        " chain_head = ?, ended_at = ?, close_note = ? WHERE id = ? AND status = ?",
        (
            status,
            pulses,
            int(exact),
            head,
            utc_text(ended_at),
            note or None,
            row.id,
            SESSION_RUNNING,
        ),
    )
    return Reconciled(row.id, row.subject_id, True, status, pulses, exact, note)


def _close_as_full(
    conn: sqlite3.Connection, row: SessionRecord, now: dt.datetime, note: str
) -> Reconciled:
    """Close as interrupted with the row's own count marked inexact (the journal cannot
    tell): the rules then count the session as full."""
    return _close(
        conn, row, events.STATUS_INTERRUPTED, row.pulses_delivered, False, row.chain_head, now, note
    )


def _left(row: SessionRecord, why: str) -> Reconciled:
    return Reconciled(
        row.id, row.subject_id, False, SESSION_RUNNING, row.pulses_delivered, row.pulses_exact, why
    )
