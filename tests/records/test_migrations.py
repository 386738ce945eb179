"""Schema migrations, from a database file written with the version-1 schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stimctl.records import Store, get_session, list_thresholds, subject_for
from stimctl.records.schema import APPLICATION_ID, LATEST_VERSION, MIGRATIONS, migrate

# The version-1 schema exactly as released (a frozen copy: the test must keep meaning
# "a file from the old version" even if someone edits migration 1 by mistake).
V1_SCHEMA = """
CREATE TABLE subjects (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, notes TEXT) STRICT;
CREATE TABLE operators (id TEXT PRIMARY KEY, role TEXT NOT NULL DEFAULT 'operator',
    created_at TEXT NOT NULL) STRICT;
CREATE TABLE screenings (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES subjects(id),
    questionnaire TEXT NOT NULL, answered_on TEXT NOT NULL, answers TEXT NOT NULL,
    medications TEXT NOT NULL DEFAULT '[]', reviewer TEXT REFERENCES operators(id),
    recorded_at TEXT NOT NULL) STRICT;
CREATE TABLE motor_thresholds (id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    percent_mso REAL NOT NULL CHECK (percent_mso > 0 AND percent_mso <= 100),
    method TEXT NOT NULL CHECK (method IN ('emg', 'visual')), measured_on TEXT NOT NULL,
    device TEXT, coil TEXT, recorded_at TEXT NOT NULL) STRICT;
CREATE TABLE courses (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES subjects(id),
    protocol_name TEXT NOT NULL, protocol_digest TEXT NOT NULL,
    planned_sessions INTEGER NOT NULL CHECK (planned_sessions > 0), start_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')), created_at TEXT NOT NULL) STRICT;
CREATE TABLE sessions (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES subjects(id),
    course_id TEXT REFERENCES courses(id), protocol_name TEXT NOT NULL,
    protocol_digest TEXT NOT NULL, protocol_class TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL, pulses_planned INTEGER NOT NULL CHECK (pulses_planned >= 0),
    pulses_delivered INTEGER NOT NULL DEFAULT 0 CHECK (pulses_delivered >= 0),
    journal_path TEXT, chain_head TEXT, started_at TEXT NOT NULL, ended_at TEXT,
    operator_id TEXT REFERENCES operators(id), device TEXT, coil TEXT,
    threshold_id TEXT REFERENCES motor_thresholds(id)) STRICT;
CREATE TABLE overrides (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES subjects(id),
    session_id TEXT REFERENCES sessions(id), rules TEXT NOT NULL,
    operator_id TEXT NOT NULL REFERENCES operators(id),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0), at TEXT NOT NULL) STRICT;
CREATE TABLE adverse_events (id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES subjects(id), session_id TEXT REFERENCES sessions(id),
    kind TEXT NOT NULL, severity TEXT NOT NULL, pulse_index INTEGER CHECK (pulse_index >= 0),
    notes TEXT NOT NULL DEFAULT '', occurred_at TEXT NOT NULL,
    recorded_by TEXT REFERENCES operators(id), recorded_at TEXT NOT NULL) STRICT;
"""

V1_DATA = """
INSERT INTO subjects VALUES ('S-01', '2026-01-05T09:00:00.000000Z', NULL);
INSERT INTO motor_thresholds VALUES ('t1', 'S-01', 48.0, 'visual', '2026-01-05', 'magstim-200',
    'D70', '2026-01-05T09:10:00.000000Z');
INSERT INTO sessions VALUES ('s1', 'S-01', NULL, 'dep-fda-10hz', 'dd', 'hf-rtms', 'completed',
    3000, 3000, NULL, NULL, '2026-01-05T09:30:00.000000Z', '2026-01-05T10:08:00.000000Z', NULL,
    'magstim-200', 'D70', 't1');
INSERT INTO adverse_events VALUES ('ae1', 'S-01', 's1', 'seizure', 'severe', 1200, 'focal',
    '2026-01-05T09:50:00.000000Z', NULL, '2026-01-05T10:00:00.000000Z');
"""


def _v1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA + V1_DATA)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def _schema(path: Path) -> dict[str, object]:
    """Columns (name, type, not null, default, key), foreign keys and indexes per table:
    the structure, not the text of the CREATE statements (ALTER TABLE appends)."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    shape: dict[str, object] = {}
    for table in sorted(tables):
        shape[table] = (
            sorted(tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({table})")),
            sorted(tuple(r[2:]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")),
            sorted(tuple(r[1:]) for r in conn.execute(f"PRAGMA index_list({table})")),
        )
    conn.close()
    return shape


def test_a_version_1_file_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    _v1_file(old)
    with Store.open(old) as store:
        assert store.schema_version == LATEST_VERSION
        threshold = list_thresholds(store, "S-01")[0]
        assert (threshold.percent_mso, threshold.method, threshold.coil) == (48.0, "visual", "D70")
        assert threshold.criterion is None and threshold.algorithm is None
        assert get_session(store, "s1").pulses_delivered == 3000
        assert subject_for(store, "S-01").rmt.device == "magstim-200"
        assert store.integrity_check() == "ok"
        with store.read() as conn:
            reviewed = conn.execute("SELECT reviewed_at FROM adverse_events").fetchone()[0]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert reviewed is None  # the old seizure is unreviewed: it blocks (SES-4)


def test_a_migrated_file_has_the_same_schema_as_a_new_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    _v1_file(old)
    Store.open(old).close()
    Store.open(new).close()
    assert _schema(old) == _schema(new)


def test_migrations_apply_one_at_a_time_with_the_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    assert migrate(conn, 1) == [1]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert migrate(conn) == list(range(2, len(MIGRATIONS) + 1))
    assert migrate(conn) == []
    conn.close()


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    _v1_file(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE INDEX sessions_by_subject ON sessions(id)")  # migration 3 collides
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # 2 applied, 3 rolled back
    columns = [r[1] for r in conn.execute("PRAGMA table_info(motor_thresholds)")]
    assert "criterion" in columns
    indexes = [r[1] for r in conn.execute("PRAGMA index_list(motor_thresholds)")]
    assert "thresholds_by_subject" not in indexes
    conn.close()
