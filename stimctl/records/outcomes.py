"""Outcome measures (per visit or session) and coil placement per session (issue 17 item 4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from stimctl.errors import ConfigError
from stimctl.records.adverse import require_session_of
from stimctl.records.courses import active_course
from stimctl.records.scales import TARGET_METHODS, scale
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject, rows_of_subject
from stimctl.records.values import from_date_text, from_utc_text, new_id, now_utc, utc_text


@dataclass(frozen=True)
class OutcomeRecord:
    subject_id: str
    scale: str
    value: float
    measured_on: dt.date
    session_id: str | None = None
    course_id: str | None = None
    notes: str = ""
    recorded_by: str | None = None
    recorded_at: dt.datetime | None = None
    id: str = ""


@dataclass(frozen=True)
class TargetRecord:
    session_id: str
    method: str
    site: str = ""
    notes: str = ""
    recorded_by: str | None = None
    recorded_at: dt.datetime | None = None


_OUTCOME_COLUMNS = (
    "id, subject_id, course_id, session_id, scale, value, measured_on, notes, recorded_by,"
    " recorded_at"
)


def record_outcome(
    store: Store, outcome: OutcomeRecord, *, today: dt.date | None = None
) -> OutcomeRecord:
    """Store an outcome score; it belongs to the subject's active course unless given one.
    An unknown scale, a value outside its range or a date in the future is refused."""
    value = scale(outcome.scale).check(float(outcome.value))
    if outcome.measured_on > (today or now_utc().date()):
        raise ConfigError(f"outcome date {outcome.measured_on.isoformat()} is in the future")
    recorded_at = outcome.recorded_at or now_utc()
    with store.write() as conn:
        require_subject(conn, outcome.subject_id)
        if outcome.session_id is not None:
            require_session_of(conn, outcome.session_id, outcome.subject_id)
        course_id = outcome.course_id
        if course_id is None:
            course = active_course(conn, outcome.subject_id)
            course_id = course.id if course else None
        if outcome.recorded_by is not None:
            ensure_operator(conn, outcome.recorded_by, at=recorded_at)
        record = OutcomeRecord(
            subject_id=outcome.subject_id,
            scale=outcome.scale,
            value=value,
            measured_on=outcome.measured_on,
            session_id=outcome.session_id,
            course_id=course_id,
            notes=outcome.notes,
            recorded_by=outcome.recorded_by,
            recorded_at=recorded_at,
            id=outcome.id or new_id(),
        )
        conn.execute(
            f"INSERT INTO outcomes ({_OUTCOME_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.course_id,
                record.session_id,
                record.scale,
                record.value,
                record.measured_on.isoformat(),
                record.notes,
                record.recorded_by,
                utc_text(recorded_at),
            ),
        )
    return record


def list_outcomes(store: Store, subject_id: str) -> list[OutcomeRecord]:
    rows = rows_of_subject(
        store,
        subject_id,
        f"SELECT {_OUTCOME_COLUMNS} FROM outcomes WHERE subject_id = ?"
        " ORDER BY measured_on, recorded_at",
    )
    return [_outcome(r) for r in rows]


def _outcome(row: tuple[Any, ...]) -> OutcomeRecord:
    return OutcomeRecord(
        id=row[0],
        subject_id=row[1],
        course_id=row[2],
        session_id=row[3],
        scale=row[4],
        value=float(row[5]),
        measured_on=from_date_text(row[6]),
        notes=row[7],
        recorded_by=row[8],
        recorded_at=from_utc_text(row[9]),
    )


def record_target(store: Store, target: TargetRecord) -> TargetRecord:
    """How the coil was placed for a session (one record per session; a second is refused:
    the first stays as recorded)."""
    if target.method not in TARGET_METHODS:
        raise ConfigError(
            f"unknown targeting method {target.method!r}: one of {', '.join(TARGET_METHODS)}"
        )
    if target.method == "other" and not target.notes.strip():
        raise ConfigError("targeting method 'other' needs --notes saying how the coil was placed")
    recorded_at = target.recorded_at or now_utc()
    with store.write() as conn:
        row = conn.execute(
            "SELECT subject_id FROM sessions WHERE id = ?", (target.session_id,)
        ).fetchone()
        if row is None:
            raise ConfigError(f"unknown session {target.session_id!r}")
        taken = conn.execute(
            "SELECT method FROM session_targets WHERE session_id = ?", (target.session_id,)
        ).fetchone()
        if taken is not None:
            raise ConfigError(
                f"session {target.session_id} already has its coil placement on record ({taken[0]})"
            )
        if target.recorded_by is not None:
            ensure_operator(conn, target.recorded_by, at=recorded_at)
        conn.execute(
            "INSERT INTO session_targets (session_id, method, site, notes, recorded_by,"
            " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                target.session_id,
                target.method,
                target.site,
                target.notes,
                target.recorded_by,
                utc_text(recorded_at),
            ),
        )
    return TargetRecord(
        target.session_id, target.method, target.site, target.notes, target.recorded_by, recorded_at
    )


def targets_of(store: Store, subject_id: str) -> dict[str, TargetRecord]:
    """Session id -> its coil placement, for the subject's sessions."""
    rows = rows_of_subject(
        store,
        subject_id,
        "SELECT t.session_id, t.method, t.site, t.notes, t.recorded_by, t.recorded_at"
        " FROM session_targets t JOIN sessions s ON s.id = t.session_id"
        " WHERE s.subject_id = ?",
    )
    return {r[0]: TargetRecord(r[0], r[1], r[2], r[3], r[4], from_utc_text(r[5])) for r in rows}
