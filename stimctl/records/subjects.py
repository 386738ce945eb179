"""Subjects (pseudonymous ids, no names) and operators."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from typing import Any

from stimctl.errors import ConfigError
from stimctl.records.models import OperatorRecord, SubjectRecord
from stimctl.records.store import Store
from stimctl.records.subject_details import (
    SUBJECT_COLUMNS,
    check_details,
    subject_record,
    write_details,
)
from stimctl.records.values import check_person_id, from_utc_text, now_utc, utc_text


def add_subject(
    store: Store,
    subject_id: str,
    *,
    notes: str | None = None,
    at: dt.datetime | None = None,
    birth_date: dt.date | None = None,
    age_years: float | None = None,
    risk_factors: tuple[str, ...] = (),
    scalp_cortex_mm: dict[str, float] | None = None,
) -> SubjectRecord:
    """Add a subject; an id already on record is a `ConfigError`. `age_years` is an age
    known today, for when the birth date is not."""
    check_person_id(subject_id, "subject")
    created = at or now_utc()
    today = created.date()
    distances = dict(scalp_cortex_mm or {})
    check_details(
        birth_date=birth_date,
        age_years=age_years,
        today=today,
        risk_factors=risk_factors,
        scalp_cortex_mm=distances,
    )
    record = SubjectRecord(
        subject_id,
        created,
        notes,
        birth_date=birth_date,
        age_years=age_years,
        age_recorded_on=today if age_years is not None else None,
        risk_factors=tuple(sorted(set(risk_factors))),
        scalp_cortex_mm=distances,
    )
    with store.write() as conn:
        if _subject_row(conn, subject_id) is not None:
            raise ConfigError(f"subject {subject_id!r} already exists")
        conn.execute(
            "INSERT INTO subjects (id, created_at, notes) VALUES (?, ?, ?)",
            (record.id, utc_text(record.created_at), record.notes),
        )
        write_details(conn, record)
    return record


def edit_subject(
    store: Store,
    subject_id: str,
    *,
    birth_date: dt.date | None = None,
    age_years: float | None = None,
    add_risk_factors: tuple[str, ...] = (),
    remove_risk_factors: tuple[str, ...] = (),
    scalp_cortex_mm: dict[str, float] | None = None,
    today: dt.date | None = None,
) -> SubjectRecord:
    """Change what is given and keep the rest. A birth date replaces a recorded age and
    the other way round; distances are merged by site."""
    day = today or now_utc().date()
    with store.write() as conn:
        current = require_subject(conn, subject_id)
        if birth_date is not None and age_years is not None:
            raise ConfigError("give a birth date or an age, not both")
        factors = (set(current.risk_factors) | set(add_risk_factors)) - set(remove_risk_factors)
        distances = {**current.scalp_cortex_mm, **(scalp_cortex_mm or {})}
        check_details(
            birth_date=birth_date,
            age_years=age_years,
            today=day,
            risk_factors=tuple(sorted(set(add_risk_factors) | set(remove_risk_factors))),
            scalp_cortex_mm=distances,
        )
        record = replace(current, risk_factors=tuple(sorted(factors)), scalp_cortex_mm=distances)
        if birth_date is not None:
            record = replace(record, birth_date=birth_date, age_years=None, age_recorded_on=None)
        if age_years is not None:
            record = replace(record, birth_date=None, age_years=age_years, age_recorded_on=day)
        write_details(conn, record)
    return record


def get_subject(store: Store, subject_id: str) -> SubjectRecord:
    """The subject; an unknown id is a `ConfigError`."""
    with store.read() as conn:
        return require_subject(conn, subject_id)


def list_subjects(store: Store) -> list[SubjectRecord]:
    with store.read() as conn:
        rows = conn.execute(f"SELECT {SUBJECT_COLUMNS} FROM subjects ORDER BY id").fetchall()
    return [subject_record(tuple(r)) for r in rows]


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
    return subject_record(row)


def _subject_row(conn: sqlite3.Connection, subject_id: str) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = conn.execute(
        f"SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = ?", (subject_id,)
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
    conn.execute(*new_operator_query(record))
    return record


def new_operator_query(record: OperatorRecord) -> tuple[str, tuple[object, ...]]:
    """The INSERT of an operator's first row; one inserted meanwhile by another console
    is kept as it is (the row names the person; its role is not this caller's to set)."""
    return (
        "INSERT INTO operators (id, role, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (record.id, record.role, utc_text(record.created_at)),
    )
