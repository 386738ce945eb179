"""Treatment courses: the prescribed protocol, the planned number of sessions, the start."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from typing import Any, cast

from stimctl import plausible
from stimctl.errors import ConfigError
from stimctl.records.models import CourseRecord, CourseStatus
from stimctl.records.store import Store
from stimctl.records.subjects import require_subject, rows_of_subject
from stimctl.records.values import (
    date_text,
    from_date_text,
    from_utc_text,
    new_id,
    now_utc,
    utc_text,
)

COUNTS_FOR_RULES = (
    "simulated = 0 AND (pulses_delivered > 0 OR status = 'running' OR pulses_exact = 0)"
)
"""SQL: the rows the daily, course and pulse rules count. A dry run never counts; a
running row (live, or not yet reconciled) and a row whose count is only a bound count
as a session of their planned pulses (`SessionRecord.rule_pulses`)."""


_COLUMNS = (
    "id, subject_id, protocol_name, protocol_digest, planned_sessions, start_date, status,"
    " created_at"
)


def start_course(
    store: Store,
    course: CourseRecord,
    *,
    within: Callable[[sqlite3.Connection, CourseRecord], object] | None = None,
) -> CourseRecord:
    """Start a course; a subject has at most one active course (close the old one first).
    `within` runs in the same transaction after the insert (the prescriber's signature)."""
    if not 1 <= course.planned_sessions <= plausible.MAX_COURSE_SESSIONS:
        raise ConfigError(
            f"a course needs 1-{plausible.MAX_COURSE_SESSIONS} sessions,"
            f" got {course.planned_sessions}"
        )
    plausible.course_start(course.start_date, course.created_at)
    record = dataclasses.replace(
        course,
        id=course.id or new_id(),
        status="active",
        created_at=course.created_at or now_utc(),
    )
    assert record.created_at is not None
    with store.write() as conn:
        require_subject(conn, record.subject_id)
        current = active_course(conn, record.subject_id)
        if current is not None:
            raise ConfigError(
                f"subject {record.subject_id!r} already has an active course of"
                f" {current.protocol_name} (started {current.start_date.isoformat()}); close it"
                f" first with `stimctl course close {record.subject_id}`"
            )
        conn.execute(
            f"INSERT INTO courses ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.protocol_name,
                record.protocol_digest,
                record.planned_sessions,
                date_text(record.start_date),
                record.status,
                utc_text(record.created_at),
            ),
        )
        if within is not None:
            within(conn, record)
    return record


def close_course(store: Store, subject_id: str) -> CourseRecord:
    """Close the subject's active course; none active is a `ConfigError`."""
    with store.write() as conn:
        require_subject(conn, subject_id)
        current = active_course(conn, subject_id)
        if current is None:
            raise ConfigError(f"subject {subject_id!r} has no active course")
        conn.execute("UPDATE courses SET status = 'closed' WHERE id = ?", (current.id,))
    return dataclasses.replace(current, status="closed")


def active_course(conn: sqlite3.Connection, subject_id: str) -> CourseRecord | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM courses WHERE subject_id = ? AND status = 'active'",
        (subject_id,),
    ).fetchone()
    return None if row is None else _course(row)


def list_courses(store: Store, subject_id: str) -> list[CourseRecord]:
    rows = rows_of_subject(
        store,
        subject_id,
        f"SELECT {_COLUMNS} FROM courses WHERE subject_id = ? ORDER BY created_at",
    )
    return [_course(r) for r in rows]


def delivered_in_course(conn: sqlite3.Connection, course_id: str) -> int:
    """Sessions of the course that count (what SES-5..8 count): delivered at least one
    pulse, or running, or of an uncertain count; never a dry run."""
    row = conn.execute(
        f"SELECT count(*) FROM sessions WHERE course_id = ? AND {COUNTS_FOR_RULES}",
        (course_id,),
    ).fetchone()
    return int(row[0])


def _course(row: tuple[Any, ...]) -> CourseRecord:
    return CourseRecord(
        id=row[0],
        subject_id=row[1],
        protocol_name=row[2],
        protocol_digest=row[3],
        planned_sessions=int(row[4]),
        start_date=from_date_text(row[5]),
        status=cast(CourseStatus, row[6]),
        created_at=from_utc_text(row[7]),
    )
