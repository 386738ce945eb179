"""The database file itself: settings, constraints, foreign files, corruption."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from stimctl.errors import ConfigError, RecordsError
from stimctl.records import Store, add_subject, default_db_path, list_subjects
from stimctl.records.schema import APPLICATION_ID, LATEST_VERSION


def test_settings_are_wal_full_sync_foreign_keys_and_a_busy_timeout(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert store.schema_version == LATEST_VERSION
    assert store.integrity_check() == "ok"


def test_default_path_is_under_stimctl_home(home: Path) -> None:
    assert default_db_path() == home / "stimctl.db"
    with Store.open() as store:
        add_subject(store, "S-01")
    assert (home / "stimctl.db").is_file()


def test_timestamps_are_utc_text(store: Store) -> None:
    add_subject(store, "S-01")
    with store.read() as conn:
        created = conn.execute("SELECT created_at FROM subjects").fetchone()[0]
    assert isinstance(created, str)
    assert created.endswith("Z")
    assert list_subjects(store)[0].created_at.utcoffset() is not None


def test_foreign_keys_refuse_a_session_of_an_unknown_subject(store: Store) -> None:
    with pytest.raises(ConfigError, match="refused"), store.write() as conn:
        conn.execute(
            "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest, status,"
            " pulses_planned, started_at) VALUES ('x', 'ghost', 'p', 'd', 'running', 1, 't')"
        )


def test_a_failed_write_is_rolled_back_whole(store: Store) -> None:
    def half_done() -> None:
        with store.write() as conn:
            conn.execute("INSERT INTO subjects (id, created_at) VALUES ('S-01', 't')")
            raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        half_done()
    assert list_subjects(store) == []


def test_a_file_that_is_not_a_database_is_one_records_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite at all\n" * 200)
    with pytest.raises(RecordsError) as err:
        Store.open(db_path)
    message = str(err.value)
    assert "corrupted" in message and str(db_path) in message
    assert "\n" not in message


def test_a_corrupted_page_is_a_records_error_on_read(db_path: Path) -> None:
    with Store.open(db_path) as store:
        for index in range(300):
            add_subject(store, f"S-{index:03d}", notes="x" * 200)
    assert not db_path.with_name("stimctl.db-wal").exists()  # checkpointed on close
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page:] = b"\xff" * (len(data) - page)  # keep the header and schema, wreck the rest
    db_path.write_bytes(bytes(data))

    def read_all() -> None:
        with Store.open(db_path) as store:
            list_subjects(store)

    with pytest.raises(RecordsError, match="is corrupted"):
        read_all()


def test_another_sqlite_file_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(RecordsError, match="not a stimctl record store"):
        Store.open(db_path)


def test_a_newer_schema_is_refused_not_downgraded(db_path: Path) -> None:
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(RecordsError, match="newer than this stimctl"):
        Store.open(db_path)


def test_a_write_lock_held_too_long_is_a_records_error(db_path: Path) -> None:
    Store.open(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            Store.open(db_path, busy_timeout_s=0.05) as store,
            pytest.raises(RecordsError, match="locked by another process"),
        ):
            add_subject(store, "S-01")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_threads_sharing_one_store_do_not_interleave_transactions(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for index in range(50):
                add_subject(store, f"{prefix}-{index}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("A", "B", "C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list_subjects(store)) == 150
