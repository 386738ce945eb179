"""Screening answer sets and motor thresholds: the subject-level inputs of the engine."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any, cast

from stimctl import plausible
from stimctl.errors import ConfigError
from stimctl.records.models import RmtMethod, ScreeningRecord, ThresholdKind, ThresholdRecord
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject, rows_of_subject
from stimctl.records.values import (
    date_text,
    from_date_text,
    from_utc_text,
    new_id,
    now_utc,
    utc_text,
)
from stimctl.safety.inputs import MUSCLES, Screening

_THRESHOLD_COLUMNS = (
    "id, subject_id, percent_mso, method, measured_on, device, coil, criterion, algorithm,"
    " pulses, recorded_at, kind, muscle, adjusted_for"
)
_SCREENING_COLUMNS = (
    "id, subject_id, questionnaire, answered_on, answers, medications, reviewer, recorded_at"
)


def record_threshold(store: Store, threshold: ThresholdRecord) -> ThresholdRecord:
    """Store a motor threshold. Outside (0, 100] % MSO, or an unknown method, is a
    `ConfigError`: never clipped."""
    _check_threshold(threshold)
    record = dataclasses.replace(
        threshold,
        id=threshold.id or new_id(),
        recorded_at=threshold.recorded_at or now_utc(),
    )
    assert record.recorded_at is not None
    with store.write() as conn:
        require_subject(conn, record.subject_id)
        conn.execute(
            f"INSERT INTO motor_thresholds ({_THRESHOLD_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.percent_mso,
                record.method,
                date_text(record.measured_on),
                record.device,
                record.coil,
                record.criterion,
                record.algorithm,
                record.pulses,
                utc_text(record.recorded_at),
                record.kind,
                record.muscle,
                record.adjusted_for,
            ),
        )
    return record


def _check_threshold(threshold: ThresholdRecord) -> None:
    plausible.rmt_percent_mso(threshold.percent_mso)
    if threshold.method not in ("emg", "visual"):
        raise ConfigError(f"motor threshold method {threshold.method!r} is not emg or visual")
    pulses = threshold.pulses
    if pulses is not None and not 0 <= pulses <= plausible.MAX_HUNT_PULSES:
        raise ConfigError(
            f"threshold pulses {pulses} is outside 0-{plausible.MAX_HUNT_PULSES}"
            " (docs/protocol-limits.md)"
        )
    # A threshold from the future would outlive every staleness rule (issue 12 item 10).
    plausible.past_date(threshold.measured_on, "threshold date", threshold.recorded_at)
    if threshold.kind not in ("rmt", "amt"):
        raise ConfigError(f"motor threshold type {threshold.kind!r} is not rmt or amt")
    if threshold.adjusted_for is not None:
        from typing import get_args

        from stimctl.protocol.models import Site

        if threshold.adjusted_for not in get_args(Site):
            raise ConfigError(
                f"adjusted-for site {threshold.adjusted_for!r} is not one of "
                f"{', '.join(get_args(Site))}"
            )
    if threshold.muscle not in MUSCLES:
        raise ConfigError(
            f"motor threshold muscle {threshold.muscle!r} is not one of {', '.join(MUSCLES)}"
        )


def latest_threshold(conn: sqlite3.Connection, subject_id: str) -> ThresholdRecord | None:
    """The most recent threshold (by measurement date, then by when it was recorded)."""
    row = conn.execute(
        f"SELECT {_THRESHOLD_COLUMNS} FROM motor_thresholds WHERE subject_id = ?"
        " ORDER BY measured_on DESC, recorded_at DESC LIMIT 1",
        (subject_id,),
    ).fetchone()
    return None if row is None else _threshold(row)


def latest_thresholds(conn: sqlite3.Connection, subject_id: str) -> list[ThresholdRecord]:
    """The most recent threshold of each (kind, muscle, depth adjustment), newest first."""
    rows = conn.execute(
        f"SELECT {_THRESHOLD_COLUMNS} FROM motor_thresholds WHERE subject_id = ?"
        " ORDER BY measured_on DESC, recorded_at DESC",
        (subject_id,),
    ).fetchall()
    latest: dict[tuple[str, str, str | None], ThresholdRecord] = {}
    for row in rows:
        record = _threshold(row)
        latest.setdefault((record.kind, record.muscle, record.adjusted_for), record)
    return list(latest.values())


def threshold_by_id(conn: sqlite3.Connection, threshold_id: str) -> ThresholdRecord | None:
    row = conn.execute(
        f"SELECT {_THRESHOLD_COLUMNS} FROM motor_thresholds WHERE id = ?", (threshold_id,)
    ).fetchone()
    return None if row is None else _threshold(row)


def list_thresholds(store: Store, subject_id: str) -> list[ThresholdRecord]:
    rows = rows_of_subject(
        store,
        subject_id,
        f"SELECT {_THRESHOLD_COLUMNS} FROM motor_thresholds WHERE subject_id = ?"
        " ORDER BY measured_on, recorded_at",
    )
    return [_threshold(r) for r in rows]


def _threshold(row: tuple[Any, ...]) -> ThresholdRecord:
    return ThresholdRecord(
        id=row[0],
        subject_id=row[1],
        percent_mso=float(row[2]),
        method=cast(RmtMethod, row[3]),
        measured_on=from_date_text(row[4]),
        device=row[5],
        coil=row[6],
        criterion=row[7],
        algorithm=row[8],
        pulses=row[9],
        recorded_at=from_utc_text(row[10]),
        kind=cast(ThresholdKind, row[11]),
        muscle=row[12],
        adjusted_for=row[13],
    )


def record_screening(store: Store, screening: ScreeningRecord) -> ScreeningRecord:
    """Store an answer set (already validated, e.g. by `screening_file.parse_screening`)."""
    plausible.past_date(screening.answered_on, "screening date", screening.recorded_at)
    record = dataclasses.replace(
        screening,
        id=screening.id or new_id(),
        recorded_at=screening.recorded_at or now_utc(),
    )
    assert record.recorded_at is not None
    with store.write() as conn:
        require_subject(conn, record.subject_id)
        if record.reviewer is not None:
            ensure_operator(conn, record.reviewer, role="reviewer")
        conn.execute(
            f"INSERT INTO screenings ({_SCREENING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.subject_id,
                record.questionnaire,
                date_text(record.answered_on),
                json.dumps(record.answers, sort_keys=True),
                json.dumps(list(record.medications)),
                record.reviewer,
                utc_text(record.recorded_at),
            ),
        )
    return record


def screening_from(subject_id: str, screening: Screening) -> ScreeningRecord:
    """A record of a validated `Screening` (the safety engine's input type)."""
    return ScreeningRecord(
        subject_id=subject_id,
        questionnaire=screening.questionnaire,
        answered_on=screening.answered_on,
        answers=dict(screening.answers),
        medications=tuple(screening.medications),
        reviewer=screening.reviewer,
    )


def latest_screening(conn: sqlite3.Connection, subject_id: str) -> ScreeningRecord | None:
    row = conn.execute(
        f"SELECT {_SCREENING_COLUMNS} FROM screenings WHERE subject_id = ?"
        " ORDER BY answered_on DESC, recorded_at DESC LIMIT 1",
        (subject_id,),
    ).fetchone()
    return None if row is None else _screening(row)


def _screening(row: tuple[Any, ...]) -> ScreeningRecord:
    answers = json.loads(row[4])
    medications = json.loads(row[5])
    return ScreeningRecord(
        id=row[0],
        subject_id=row[1],
        questionnaire=row[2],
        answered_on=from_date_text(row[3]),
        answers={str(k): bool(v) for k, v in answers.items()},
        medications=tuple(str(m) for m in medications),
        reviewer=row[6],
        recorded_at=from_utc_text(row[7]),
    )


def screenings_of(store: Store, subject_id: str) -> list[ScreeningRecord]:
    rows = rows_of_subject(
        store,
        subject_id,
        f"SELECT {_SCREENING_COLUMNS} FROM screenings WHERE subject_id = ?"
        " ORDER BY answered_on, recorded_at",
    )
    return [_screening(r) for r in rows]
