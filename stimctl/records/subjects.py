"""Subjects (pseudonymous ids, no names) and operators."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from stimctl.errors import ConfigError
from stimctl.records.models import OperatorRecord, SubjectRecord
from stimctl.records.store import Store
from stimctl.records.values import check_person_id, from_utc_text, now_utc, utc_text


def add_subject(
    store: Store, subject_id: str, *, notes: str | None = None, at: dt.datetime | None = None
) -> SubjectRecord:
    """Add a subject; an id already on record is a `ConfigError`."""
    check_person_id(subject_id, "subject")
    record = SubjectRecord(subject_id, at or now_utc(), notes)
    with store.write() as conn:
        if _subject_row(conn, subject_id) is not None:
            raise ConfigError(f"subject {subject_id!r} already exists")
        conn.execute(
            "INSERT INTO subjects (id, created_at, notes) VALUES (?, ?, ?)",
            (record.id, utc_text(record.created_at), record.notes),
        )
    return record


def get_subject(store: Store, subject_id: str) -> SubjectRecord:
    """The subject; an unknown id is a `ConfigError`."""
    with store.read() as conn:
        return require_subject(conn, subject_id)


def list_subjects(store: Store) -> list[SubjectRecord]:
    with store.read() as conn:
        rows = conn.execute("SELECT id, created_at, notes FROM subjects ORDER BY id").fetchall()
    return [SubjectRecord(r[0], from_utc_text(r[1]), r[2]) for r in rows]


def rows_of_subject(store: Store, subject_id: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one subject: `sql` takes the subject id as its one parameter. An unknown
    subject is a ConfigError, not an empty list."""
    with store.read() as conn:
        require_subject(conn, subject_id)
        return [tuple(row) for row in conn.execute(sql, (subject_id,)).fetchall()]


def require_subject(conn: sqlite3.Connection, subject_id: str) -> SubjectRecord:
    row = _subject_row(conn, subject_id)
    if row is None:
        raise ConfigError(
            f"unknown subject {subject_id!r} (add it with `stimctl subject add {subject_id}`)"
        )
    return SubjectRecord(row[0], from_utc_text(row[1]), row[2])


def _subject_row(conn: sqlite3.Connection, subject_id: str) -> tuple[str, str, str | None] | None:
    row: tuple[str, str, str | None] | None = conn.execute(
        "SELECT id, created_at, notes FROM subjects WHERE id = ?", (subject_id,)
    ).fetchone()
    return row


def add_operator(
    store: Store, operator_id: str, *, role: str = "operator", at: dt.datetime | None = None
) -> OperatorRecord:
    """Register an operator (or return the one on record, whose role is kept)."""
    with store.write() as conn:
        return ensure_operator(conn, operator_id, role=role, at=at)


def ensure_operator(
    conn: sqlite3.Connection,
    operator_id: str,
    *,
    role: str = "operator",
    at: dt.datetime | None = None,
) -> OperatorRecord:
    """The operator row, created on first use: every signature (override, review,
    screening reviewer) names an operator the database knows."""
    check_person_id(operator_id, "operator")
    row = conn.execute(
        "SELECT id, role, created_at FROM operators WHERE id = ?", (operator_id,)
    ).fetchone()
    if row is not None:
        return OperatorRecord(row[0], row[1], from_utc_text(row[2]))
    record = OperatorRecord(operator_id, role, at or now_utc())
    conn.execute(
        "INSERT INTO operators (id, role, created_at) VALUES (?, ?, ?)",
        (record.id, record.role, utc_text(record.created_at)),
    )
    return record
