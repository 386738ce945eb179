"""The migration that gives course-change signatures their own record type, on both
backends: a store one version older, with signatures in it, is migrated; the rows and
the index stay, 'course_change' is allowed, a type outside the list is still refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from stimctl.errors import ConfigError
from stimctl.records import Store
from stimctl.records.allowed_values import allow_value
from stimctl.records.pg_store import PostgresStore
from stimctl.records.schema import LATEST_VERSION, MIGRATIONS
from stimctl.records.subjects import ensure_operator

BEFORE = [m.__name__ for m in MIGRATIONS].index("_course_change_signatures")
"""The schema version just before this migration (versions are positional)."""


def _signature(conn: sqlite3.Connection, sid: str, record_type: str) -> None:
    conn.execute(
        "INSERT INTO signatures (id, signer_id, signer_name, signer_role, meaning,"
        " record_type, record_id, content_digest, signed_at)"
        " VALUES (?, 'dr', 'Dr A', 'physician', 'approved', ?, 'rec-1', ?, ?)",
        (sid, record_type, "c" * 64, "2026-11-24T09:00:00.000000Z"),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, db_path: Path) -> Callable[[int], Store]:
    """Opens one store (a file, or a fresh PostgreSQL schema) migrated to a version."""
    if request.param == "sqlite":
        return lambda version: Store.open(db_path, migrate_to=version)
    url = request.getfixturevalue("pg_url")
    return lambda version: PostgresStore.open_url(url, migrate_to=version)


def _index_names(store: Store) -> set[str]:
    with store.read() as conn:
        if store.backend == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE tablename = ?"
        return {str(r[0]) for r in conn.execute(sql, ("signatures",)).fetchall()}


def test_course_change_signatures_get_their_own_type(opener: Callable[[int], Store]) -> None:
    with opener(BEFORE) as old:
        assert old.schema_version == BEFORE
        with old.write() as conn:
            ensure_operator(conn, "dr")
            _signature(conn, "sig-other", "other")
            _signature(conn, "sig-course", "course")
        with pytest.raises(ConfigError), old.write() as conn:
            _signature(conn, "too-early", "course_change")
        indexes = _index_names(old)
    with opener(LATEST_VERSION) as new:
        assert new.schema_version == LATEST_VERSION
        with new.read() as conn:
            rows = conn.execute(
                "SELECT id, record_type, signer_id, content_digest FROM signatures ORDER BY id"
            ).fetchall()
        assert [tuple(r) for r in rows] == [
            ("sig-course", "course", "dr", "c" * 64),
            ("sig-other", "other", "dr", "c" * 64),
        ]
        with new.write() as conn:
            _signature(conn, "sig-change", "course_change")
        with pytest.raises(ConfigError), new.write() as conn:
            _signature(conn, "sig-bogus", "bogus")
        with pytest.raises(ConfigError), new.write() as conn:  # the other CHECKs stay
            conn.execute("UPDATE signatures SET meaning = ' ' WHERE id = 'sig-change'")
        with pytest.raises(ConfigError), new.write() as conn:  # and the signer's key
            conn.execute("UPDATE signatures SET signer_id = 'nobody' WHERE id = 'sig-change'")
        assert _index_names(new) == indexes
        assert new.integrity_check() == "ok"


def test_a_table_without_such_a_list_is_refused_not_rebuilt(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("CREATE TABLE t (kind TEXT NOT NULL)")
    with pytest.raises(RuntimeError, match="expected one CHECK"):
        allow_value(conn, "t", "kind", "new")
    with pytest.raises(ValueError, match="plain"):
        allow_value(conn, "t", "kind", "x'); DROP TABLE t; --")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    conn.close()
