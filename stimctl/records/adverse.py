"""Adverse events and their review (a seizure blocks the next session until reviewed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

from stimctl import plausible
from stimctl.errors import ConfigError, StateError
from stimctl.records.batch import Query, Rows
from stimctl.records.models import AE_KINDS, AE_SEVERITIES, AdverseEventRecord
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject
from stimctl.records.values import new_id, now_utc, record_from_row, utc_text

_AE_COLUMNS = (
    "id, subject_id, session_id, kind, severity, pulse_index, notes, occurred_at,"
    " recorded_by, recorded_at, reviewed_by, reviewed_at, review_notes"
)


def record_adverse_event(store: Store, event: AdverseEventRecord) -> AdverseEventRecord:
    """Store an adverse event. A seizure (or any serious event) blocks the subject's next
    session until `review_adverse_event` is called."""
    if event.kind not in AE_KINDS:
        raise ConfigError(f"adverse event kind {event.kind!r} is not one of {list(AE_KINDS)}")
    if event.severity not in AE_SEVERITIES:
        raise ConfigError(f"severity {event.severity!r} is not one of {list(AE_SEVERITIES)}")
    index = event.pulse_index
    # The console stores the index of the next pulse: after the last one it equals the
    # count, so the ceiling itself is a valid index (an event is never lost to a range).
    if index is not None and not 0 <= index <= plausible.MAX_PULSES_PER_SESSION:
        raise ConfigError(f"pulse index {index} is outside 0-{plausible.MAX_PULSES_PER_SESSION}")
    plausible.past_moment(event.occurred_at, "adverse event time", event.recorded_at)
    record = dataclasses.replace(
        event,
        id=event.id or new_id(),
        recorded_at=event.recorded_at or now_utc(),
        reviewed_by=None,
        reviewed_at=None,
        review_notes=None,
    )
    assert record.recorded_at is not None
    with store.write() as conn:
        require_subject(conn, record.subject_id)
        if record.session_id is not None:
            require_session_of(conn, record.session_id, record.subject_id)
        if record.recorded_by is not None:
            ensure_operator(conn, record.recorded_by)
        conn.execute(
            f"INSERT INTO adverse_events ({_AE_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.session_id,
                record.kind,
                record.severity,
                record.pulse_index,
                record.notes,
                utc_text(record.occurred_at),
                record.recorded_by,
                utc_text(record.recorded_at),
                None,
                None,
                None,
            ),
        )
    return record


def review_adverse_event(
    store: Store,
    event_id: str,
    *,
    reviewed_by: str,
    notes: str,
    at: dt.datetime | None = None,
    within: Callable[[sqlite3.Connection, AdverseEventRecord], object] | None = None,
) -> AdverseEventRecord:
    """Mark an adverse event reviewed (it no longer blocks). Needs a reviewer and notes.
    `within` runs in the same transaction with the reviewed event (the reviewer's
    signature: both or neither)."""
    if not notes.strip():
        raise ConfigError("a review needs notes (what was decided and why)")
    with store.write() as conn:
        current = _require_event(conn, event_id)
        if current.reviewed_at is not None:
            raise StateError(
                f"adverse event {event_id!r} was already reviewed by {current.reviewed_by}"
            )
        ensure_operator(conn, reviewed_by)
        moment = at or now_utc()
        conn.execute(
            "UPDATE adverse_events SET reviewed_by = ?, reviewed_at = ?, review_notes = ?"
            " WHERE id = ?",
            (reviewed_by, utc_text(moment), notes, event_id),
        )
        reviewed = _require_event(conn, event_id)
        if within is not None:
            within(conn, reviewed)
        return reviewed


def get_adverse_event(store: Store, event_id: str) -> AdverseEventRecord:
    """The adverse event; an unknown id is a `ConfigError`."""
    with store.read() as conn:
        return _require_event(conn, event_id)


def adverse_events_of(conn: sqlite3.Connection, subject_id: str) -> list[AdverseEventRecord]:
    return adverse_events_from(conn.execute(*adverse_events_query(subject_id)).fetchall())


def adverse_events_query(subject_id: str) -> Query:
    """The subject's adverse events, in the order they occurred (`adverse_events_from`)."""
    return (
        f"SELECT {_AE_COLUMNS} FROM adverse_events WHERE subject_id = ? ORDER BY occurred_at, id",
        (subject_id,),
    )


def adverse_events_from(rows: Rows) -> list[AdverseEventRecord]:
    return [_event(r) for r in rows]


def list_adverse_events(store: Store, subject_id: str) -> list[AdverseEventRecord]:
    with store.read() as conn:
        require_subject(conn, subject_id)
        return adverse_events_of(conn, subject_id)


def require_session_of(conn: sqlite3.Connection, session_id: str, subject_id: str) -> None:
    row = conn.execute("SELECT subject_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise ConfigError(f"unknown session {session_id!r}")
    if row[0] != subject_id:
        raise ConfigError(
            f"session {session_id!r} belongs to subject {row[0]!r}, not {subject_id!r}"
        )


def _require_event(conn: sqlite3.Connection, event_id: str) -> AdverseEventRecord:
    row = conn.execute(
        f"SELECT {_AE_COLUMNS} FROM adverse_events WHERE id = ?", (event_id,)
    ).fetchone()
    if row is None:
        raise ConfigError(f"unknown adverse event {event_id!r}")
    return _event(row)


def _event(row: tuple[Any, ...]) -> AdverseEventRecord:
    return record_from_row(
        AdverseEventRecord,
        _AE_COLUMNS,
        row,
        times=("occurred_at",),
        maybe_times=("recorded_at", "reviewed_at"),
    )
