"""The database schema and its migrations (``PRAGMA user_version`` is the version).

Each migration takes the schema from version n-1 to n and runs in its own write
transaction together with the version bump, so a crash leaves the file at n-1 or at n,
never between. Released migrations are never edited: a change is a new migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x53544D43
"""``PRAGMA application_id`` of a stimctl database ("STMC"): tells it from other files."""

Migration = Callable[[sqlite3.Connection], None]


def _run(conn: sqlite3.Connection, script: str) -> None:
    # Not `executescript`: it COMMITs any open transaction first, which would split a
    # migration from its version bump.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1_initial(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE subjects (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            notes TEXT
        ) STRICT;
        CREATE TABLE operators (
            id TEXT PRIMARY KEY,
            role TEXT NOT NULL DEFAULT 'operator',
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE screenings (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            questionnaire TEXT NOT NULL,
            answered_on TEXT NOT NULL,
            answers TEXT NOT NULL,
            medications TEXT NOT NULL DEFAULT '[]',
            reviewer TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE motor_thresholds (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            percent_mso REAL NOT NULL CHECK (percent_mso > 0 AND percent_mso <= 100),
            method TEXT NOT NULL CHECK (method IN ('emg', 'visual')),
            measured_on TEXT NOT NULL,
            device TEXT,
            coil TEXT,
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE courses (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            protocol_name TEXT NOT NULL,
            protocol_digest TEXT NOT NULL,
            planned_sessions INTEGER NOT NULL CHECK (planned_sessions > 0),
            start_date TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            course_id TEXT REFERENCES courses(id),
            protocol_name TEXT NOT NULL,
            protocol_digest TEXT NOT NULL,
            protocol_class TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            pulses_planned INTEGER NOT NULL CHECK (pulses_planned >= 0),
            pulses_delivered INTEGER NOT NULL DEFAULT 0 CHECK (pulses_delivered >= 0),
            journal_path TEXT,
            chain_head TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            operator_id TEXT REFERENCES operators(id),
            device TEXT,
            coil TEXT,
            threshold_id TEXT REFERENCES motor_thresholds(id)
        ) STRICT;
        CREATE TABLE overrides (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            session_id TEXT REFERENCES sessions(id),
            rules TEXT NOT NULL,
            operator_id TEXT NOT NULL REFERENCES operators(id),
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE adverse_events (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            session_id TEXT REFERENCES sessions(id),
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            pulse_index INTEGER CHECK (pulse_index >= 0),
            notes TEXT NOT NULL DEFAULT '',
            occurred_at TEXT NOT NULL,
            recorded_by TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT;
        """,
    )


def _v2_provenance_and_review(conn: sqlite3.Connection) -> None:
    # The RMT's provenance (criterion, algorithm, pulses used) travels into exports
    # (NIBS-BIDS threshold_* columns); adverse events gain a review so that a seizure
    # can block until a physician has looked at it.
    for statement in (
        "ALTER TABLE motor_thresholds ADD COLUMN criterion TEXT",
        "ALTER TABLE motor_thresholds ADD COLUMN algorithm TEXT",
        "ALTER TABLE motor_thresholds ADD COLUMN pulses INTEGER CHECK (pulses >= 0)",
        "ALTER TABLE adverse_events ADD COLUMN reviewed_by TEXT REFERENCES operators(id)",
        "ALTER TABLE adverse_events ADD COLUMN reviewed_at TEXT",
        "ALTER TABLE adverse_events ADD COLUMN review_notes TEXT",
    ):
        conn.execute(statement)


def _v3_indexes(conn: sqlite3.Connection) -> None:
    # The rule evaluation before every session reads one subject's recent sessions; with
    # thousands on record that must be an index range scan, not a table scan. At most one
    # active course per subject, enforced by the database rather than by a check-then-act.
    _run(
        conn,
        """
        CREATE INDEX sessions_by_subject ON sessions(subject_id, started_at);
        CREATE INDEX sessions_by_course ON sessions(course_id);
        CREATE INDEX thresholds_by_subject ON motor_thresholds(subject_id, measured_on);
        CREATE INDEX screenings_by_subject ON screenings(subject_id, answered_on);
        CREATE INDEX adverse_events_by_subject ON adverse_events(subject_id);
        CREATE UNIQUE INDEX one_active_course ON courses(subject_id) WHERE status = 'active';
        """,
    )


def _threshold_kind_and_muscle(conn: sqlite3.Connection) -> None:
    # Every threshold says whether it is resting or active and on which muscle (issue 15,
    # safety-limits 13.2): a dose in % AMT is not the same dose in % RMT, and an H7
    # protocol's threshold is a leg threshold. Rows recorded before this were resting
    # thresholds of a hand muscle that was not named: 'rmt' and 'hand' say exactly that.
    for statement in (
        "ALTER TABLE motor_thresholds ADD COLUMN kind TEXT NOT NULL DEFAULT 'rmt'"
        " CHECK (kind IN ('rmt', 'amt'))",
        "ALTER TABLE motor_thresholds ADD COLUMN muscle TEXT NOT NULL DEFAULT 'hand'"
        " CHECK (length(muscle) > 0)",
        # a threshold already adjusted for the cortical depth of this target (SAINT)
        "ALTER TABLE motor_thresholds ADD COLUMN adjusted_for TEXT",
    ):
        conn.execute(statement)


def _subject_age_risk_and_anatomy(conn: sqlite3.Connection) -> None:
    # Age (a birth date, or an age as known on a date) decides the cleared ages of an
    # indication; recorded risk factors (epilepsy, brain lesion, prior seizure) make the
    # rules stricter; scalp-to-cortex distances give SAINT its depth-adjusted dose
    # (issue 15 items 5 and 7). JSON text for the last two, like screenings' answers.
    for statement in (
        "ALTER TABLE subjects ADD COLUMN birth_date TEXT",
        "ALTER TABLE subjects ADD COLUMN age_years REAL"
        " CHECK (age_years IS NULL OR (age_years >= 0 AND age_years < 130))",
        "ALTER TABLE subjects ADD COLUMN age_recorded_on TEXT",
        "ALTER TABLE subjects ADD COLUMN risk_factors TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE subjects ADD COLUMN scalp_cortex_mm TEXT NOT NULL DEFAULT '{}'",
    ):
        conn.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    _v1_initial,
    _v2_provenance_and_review,
    _v3_indexes,
    _threshold_kind_and_muscle,
    _subject_age_risk_and_anatomy,
)
"""MIGRATIONS[n - 1] takes the schema from version n - 1 to n."""

LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> list[int]:
    """Bring the schema up to `target`; returns the versions applied (may be empty).

    `conn` must be in autocommit mode (``isolation_level=None``). Each step takes the
    write lock first and re-reads the version, so two processes opening a fresh file at
    once apply each migration exactly once.
    """
    applied: list[int] = []
    if schema_version(conn) >= target:
        return applied  # the common case: no write lock needed just to open the file
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            if current >= target:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[current](conn)
            if current == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(current + 1)
