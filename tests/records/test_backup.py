"""`stimctl records backup|restore` (issue 17 item 6): real files, a real writer process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode, RecordsError
from stimctl.records import Store, add_subject, list_subjects
from stimctl.records.backup import backup_store, read_backup, restore_store
from stimctl.records.sessions import begin_session
from tests.records.conftest import DIGEST, NOW

WRITER = """
import sys
from pathlib import Path
from stimctl.records import Store, add_subject
db, stop = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
with Store.open(db) as store:
    while not stop.exists():
        add_subject(store, f"W-{n:05d}")  # one committed transaction each
        n += 1
print(n)
"""


def _subject_ids(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM subjects ORDER BY id")]
    finally:
        conn.close()


def test_a_backup_taken_while_a_console_writes_is_one_consistent_snapshot(
    db_path: Path, tmp_path: Path
) -> None:
    Store.open(db_path).close()
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        counts = []
        with Store.open(db_path) as store:
            for n in range(3):
                time.sleep(0.3)
                copy = tmp_path / f"backup-{n}.db"
                backup_store(store, copy)
                state = read_backup(copy)  # a stimctl store, integrity ok
                assert state.schema_version == store.schema_version
                ids = _subject_ids(copy)
                # every transaction whole, none missing before the last one copied
                assert ids == [f"W-{i:05d}" for i in range(len(ids))]
                counts.append(len(ids))
                assert not Path(f"{copy}-wal").exists()  # one self-contained file
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert counts == sorted(counts) and counts[-1] > 0
    assert int(out) >= counts[-1]  # the writer went on while backups were taken


def test_a_backup_never_overwrites_a_file(store: Store, tmp_path: Path) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(ConfigError, match="never overwrites"):
        backup_store(store, existing)
    assert existing.read_bytes() == b"keep me"


def test_restore_refuses_a_newer_store_unless_forced(store: Store, tmp_path: Path) -> None:
    add_subject(store, "S-01")
    backup = tmp_path / "monday.db"
    backup_store(store, backup)
    time.sleep(0.01)
    add_subject(store, "S-02")  # a record the backup does not have
    with pytest.raises(ConfigError, match="newer than the backup"):
        restore_store(store, backup)
    assert [s.id for s in list_subjects(store)] == ["S-01", "S-02"]
    kept = restore_store(store, backup, force=True)
    assert [s.id for s in list_subjects(store)] == ["S-01"]
    assert _subject_ids(kept) == ["S-01", "S-02"]  # what was replaced is kept
    with Store.open(store.path) as reopened:  # another console sees the restored store
        assert [s.id for s in list_subjects(reopened)] == ["S-01"]


def test_restore_of_a_backup_as_new_as_the_store_needs_no_force(
    store: Store, tmp_path: Path
) -> None:
    add_subject(store, "S-01")
    backup = tmp_path / "now.db"
    backup_store(store, backup)
    restore_store(store, backup)
    assert [s.id for s in list_subjects(store)] == ["S-01"]


def test_restore_is_refused_while_a_session_runs(store: Store, tmp_path: Path) -> None:
    add_subject(store, "S-01")
    backup = tmp_path / "b.db"
    backup_store(store, backup)
    begin_session(
        store,
        subject_id="S-01",
        session_id="sess-1",
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=10,
        started_at=NOW,
    )
    with pytest.raises(RecordsError, match="sessions are running"):
        restore_store(store, backup, force=True)


def test_restore_refuses_a_file_that_is_not_a_stimctl_backup(store: Store, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ConfigError, match="not a stimctl record store backup"):
        restore_store(store, other, force=True)


def test_backup_and_restore_commands(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["subject", "add", "S-01"]) == ExitCode.OK
    backup = home.parent / "b.db"
    assert main(["records", "backup", str(backup)]) == ExitCode.OK
    assert f"backed up to {backup}" in capsys.readouterr().out
    assert main(["records", "backup", str(backup)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "never overwrites" in err
    time.sleep(0.01)
    assert main(["subject", "add", "S-02"]) == ExitCode.OK
    assert main(["records", "restore", str(backup)]) == ExitCode.BAD_INPUT
    assert "--force" in capsys.readouterr().err
    assert main(["records", "restore", str(backup), "--force"]) == ExitCode.OK
    assert "restored" in capsys.readouterr().out


def test_backup_of_a_postgresql_store_points_to_pg_dump(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    assert main(["records", "backup", str(tmp_path / "b.db")]) == ExitCode.RECORDS
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()
