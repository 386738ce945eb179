"""Two backends, one schema (issue 17 item 1): SQLite by default, PostgreSQL by URL.

Real servers only: PostgreSQL from the session's `pg_server_url` (pgserver or
$STIMCTL_TEST_DATABASE_URL), one fresh schema per test.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode, RecordsError
from stimctl.records import Store, add_subject, list_subjects
from stimctl.records.pg_dialect import UnsupportedSql, translate
from stimctl.records.pg_store import PostgresStore
from stimctl.records.schema import LATEST_VERSION, MIGRATIONS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _columns(store: Store) -> dict[str, list[str]]:
    """Table -> column names, from either backend's catalogue (rowid aside)."""
    tables: dict[str, list[str]] = {}
    with store.read() as conn:
        if store.backend == "sqlite":
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for name in names:
                info = conn.execute(f"PRAGMA table_info({name})").fetchall()
                tables[name] = [str(r[1]) for r in info]
        else:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name <> 'stimctl_schema'"
                " AND column_name <> 'rowid' ORDER BY table_name, ordinal_position"
            ).fetchall()
            for table, column in rows:
                tables.setdefault(str(table), []).append(str(column))
    return {name: cols for name, cols in sorted(tables.items())}


def test_both_backends_have_the_same_tables_and_columns(db_path: Path, pg_url: str) -> None:
    with Store.open(db_path) as sqlite_store:
        expected = _columns(sqlite_store)
    with _open_url(pg_url) as pg_store:
        assert pg_store.backend == "postgresql"
        assert pg_store.schema_version == LATEST_VERSION == len(MIGRATIONS)
        assert _columns(pg_store) == expected


def _open_url(url: str) -> Store:
    return PostgresStore.open_url(url)


def test_the_url_in_the_environment_selects_postgresql(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    with Store.open() as store:
        add_subject(store, "S-01")
    with Store.open() as store:
        assert store.backend == "postgresql"
        assert [s.id for s in list_subjects(store)] == ["S-01"]
    assert not (home / "stimctl.db").exists()  # nothing fell back to the local file


def test_the_site_file_can_name_the_server(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: Path
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(f'schema_version = 1\ndatabase_url = "{pg_url}"\n')
    monkeypatch.setenv("STIMCTL_SITE", str(site))
    monkeypatch.delenv("STIMCTL_DATABASE_URL", raising=False)
    with Store.open() as store:
        assert store.backend == "postgresql"


def test_a_url_that_is_not_postgresql_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    monkeypatch.setenv("STIMCTL_DATABASE_URL", "postgresq://typo/db")
    with pytest.raises(ConfigError, match="not a postgresql:// URL"):
        Store.open()
    assert not (home / "stimctl.db").exists()


def test_an_unreachable_server_is_one_records_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"postgresql://stimctl:s3cret@/stimctl?host={tmp_path}"
    monkeypatch.setenv("STIMCTL_DATABASE_URL", url)
    with pytest.raises(RecordsError) as caught:
        Store.open(busy_timeout_s=1)
    message = str(caught.value)
    assert "cannot reach the record store" in message and "s3cret" not in message


def test_a_database_of_another_application_is_refused(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as other:
        other.execute("CREATE TABLE invoices (id text)")
    with pytest.raises(RecordsError, match="not a stimctl record store"):
        _open_url(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as other:
        tables = other.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
    assert tables == (1,)  # nothing was created beside it


def test_a_newer_schema_on_the_server_is_refused(pg_url: str) -> None:
    _open_url(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE stimctl_schema SET version = version + 1")
    with pytest.raises(RecordsError, match="newer than this stimctl"):
        _open_url(pg_url)


def test_a_constraint_is_a_config_error_on_postgresql(pg_url: str) -> None:
    with _open_url(pg_url) as store:
        add_subject(store, "S-01")
        with pytest.raises(ConfigError), store.write() as conn:
            conn.execute(
                "INSERT INTO subjects (id, created_at) VALUES (?, ?)", ("S-01", "2026-01-01")
            )
        assert [s.id for s in list_subjects(store)] == ["S-01"]  # rolled back, usable


def test_migrate_and_info_on_postgresql(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    code, out, _ = run(capsys, "records", "migrate")
    assert code == ExitCode.OK
    assert f"to schema version {LATEST_VERSION}" in out and "postgresql" in out
    code, out, _ = run(capsys, "records", "migrate")
    assert code == ExitCode.OK and "nothing to apply" in out
    run(capsys, "subject", "add", "S-01")
    code, out, _ = run(capsys, "records", "info", "--json")
    info = json.loads(out)
    assert code == ExitCode.OK
    assert info["backend"] == "postgresql" and info["schema_version"] == LATEST_VERSION
    assert info["counts"]["subjects"] == 1 and info["counts"]["sessions"] == 0


def test_info_on_sqlite_names_the_file_and_counts(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "records", "info")
    assert code == ExitCode.OK and "no store yet" in out
    assert not (home / "stimctl.db").exists()  # info creates nothing
    run(capsys, "subject", "add", "S-01")
    code, out, _ = run(capsys, "records", "info")
    assert "backend: sqlite" in out and str(home / "stimctl.db") in out
    assert "subjects: 1" in out and f"schema version: {LATEST_VERSION} of" in out
    for table in ("journal_blobs", "journal_prefixes", "recruitment_curves", "hotspot_results"):
        assert f"{table}: 0" in out


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        (
            "SELECT a FROM t WHERE b = ? AND c LIKE '50%'",
            "SELECT a FROM t WHERE b = %s AND c LIKE '50%%'",
        ),
        ("SELECT '?' , ?", "SELECT '?' , %s"),
        (
            "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, x REAL, s TEXT DEFAULT 'TEXT') STRICT",
            'CREATE TABLE t (rowid BIGINT GENERATED ALWAYS AS IDENTITY, id TEXT COLLATE "C"'
            " PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, s TEXT COLLATE \"C\" DEFAULT 'TEXT')",
        ),
        ("ALTER TABLE t ADD COLUMN y REAL", "ALTER TABLE t ADD COLUMN y DOUBLE PRECISION"),
    ],
)
def test_the_dialect_layer_translates_placeholders_and_types(sqlite: str, postgresql: str) -> None:
    assert translate(sqlite) == postgresql


@pytest.mark.parametrize("sql", ["PRAGMA user_version", "INSERT OR IGNORE INTO t VALUES (1)"])
def test_sqlite_only_sql_fails_loudly_on_postgresql(sql: str) -> None:
    with pytest.raises(UnsupportedSql):
        translate(sql)


def test_sums_come_back_as_integers_as_on_sqlite(any_store: Store) -> None:
    add_subject(any_store, "S-01")
    with any_store.read() as conn:
        row = conn.execute("SELECT count(*), sum(length(id)), coalesce(sum(0), 0) FROM subjects")
        assert row.fetchone() == (1, 4, 0)
        assert all(type(v) is int for v in conn.execute("SELECT sum(1) FROM subjects").fetchone())


def test_journal_verification_finds_the_shared_store_without_a_local_file(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    from stimctl.records.journal_check import open_existing_store

    assert open_existing_store() is None  # no file and no server: nothing to check against
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    store = open_existing_store()
    assert store is not None and store.backend == "postgresql"
    store.close()
    assert not (home / "stimctl.db").exists()


# The store's generic guarantees, on both backends (the SQLite-file ones are in
# test_store.py).


def test_timestamps_are_utc_text_on_both(any_store: Store) -> None:
    add_subject(any_store, "S-01")
    with any_store.read() as conn:
        created = conn.execute("SELECT created_at FROM subjects").fetchone()[0]
    assert isinstance(created, str) and created.endswith("Z")
    assert list_subjects(any_store)[0].created_at.utcoffset() is not None


def test_foreign_keys_refuse_a_session_of_an_unknown_subject_on_both(any_store: Store) -> None:
    with pytest.raises(ConfigError, match="refused"), any_store.write() as conn:
        conn.execute(
            "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest, status,"
            " pulses_planned, started_at) VALUES ('x', 'ghost', 'p', 'd', 'running', 1, 't')"
        )


def test_a_failed_write_is_rolled_back_whole_on_both(any_store: Store) -> None:
    def half_done() -> None:
        with any_store.write() as conn:
            conn.execute("INSERT INTO subjects (id, created_at) VALUES ('S-01', 't')")
            raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        half_done()
    assert list_subjects(any_store) == []


def test_threads_sharing_one_store_do_not_interleave_on_both(any_store: Store) -> None:
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for index in range(30):
                add_subject(any_store, f"{prefix}-{index}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("A", "B", "C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list_subjects(any_store)) == 90


def test_a_subject_lock_held_too_long_is_a_records_error_on_postgresql(pg_url: str) -> None:
    with _open_url(pg_url) as setup:
        add_subject(setup, "S-01")
    holder = psycopg.connect(pg_url)
    holder.execute("SELECT id FROM subjects WHERE id = 'S-01' FOR UPDATE")
    try:
        with (
            PostgresStore.open_url(pg_url, busy_timeout_s=0.2) as store,
            pytest.raises(RecordsError, match="locked by another console"),
            store.write() as conn,
        ):
            store.lock_subject(conn, "S-01")
    finally:
        holder.rollback()
        holder.close()
