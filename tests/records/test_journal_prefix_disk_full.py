"""A full disk while a running session's journal prefix goes to the store (fault matrix).

The store's disk fills up during the session: every copy of the journal prefix after a
train fails as SQLite fails on ENOSPC ("database or disk is full", SQLITE_FULL), injected
with pytest-mock at the write of the prefix row (and of the whole journal while the disk
is full). The session goes on to its end, the RECORDS alarm tells the operator, the local
journal stays the record of truth (it verifies and counts every pulse), and once there is
space again `stimctl records sync` uploads it. Real engine on the MagPro simulator, real
SQLite file, real journal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import read, verify
from stimctl.records import Store, add_subject, begin_session
from stimctl.records.journal_prefix import stored_prefix
from stimctl.records.journal_store import stored_journal
from stimctl.records.sessions import get_session
from stimctl.session.records_link import SessionRecorder
from tests.records.conftest import DIGEST, NOW
from tests.session.harness import TRAINS, start, write_protocol

FULL_TABLES = ("INSERT INTO journal_prefixes", "INSERT INTO journal_blobs")


class _FullDisk:
    """The store's connection while its disk is full: writing a journal's bytes fails as
    SQLite fails on ENOSPC; the small row updates still fit (as on a nearly full disk)."""

    def __init__(self, conn: sqlite3.Connection, state: dict[str, Any]) -> None:
        self._conn = conn
        self._state = state

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self._state["full"] and sql.lstrip().startswith(FULL_TABLES):
            self._state["refused"] += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.fixture
def disk(mocker: MockerFixture) -> dict[str, Any]:
    state: dict[str, Any] = {"full": True, "refused": 0}
    real = Store.write

    @contextmanager
    def write(self: Store) -> Iterator[Any]:
        with real(self) as conn:
            yield _FullDisk(conn, state)

    mocker.patch.object(Store, "write", write)
    return state


def test_a_full_disk_during_the_prefix_upload_raises_records_and_a_later_sync_uploads(
    tmp_path: Path, disk: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path, begin=False)
    journal = run.engine.journal
    disk["full"] = False  # the session's row goes on record before the disk fills
    with Store.open() as store:
        add_subject(store, "S-01")
        begin_session(
            store,
            session_id=journal.session_id,
            subject_id="S-01",
            protocol_name="t",
            protocol_digest=DIGEST,
            pulses_planned=60,
            started_at=NOW,
            journal_path=journal.path,
        )
    disk["full"] = True
    recorder = SessionRecorder("S-01", journal.session_id, journal_path=str(journal.path))
    recorder.attach(run.engine)
    run.engine.start()
    summary = run.finish()
    recorder.end(summary, journal.head)

    # the session went on to its end, every pulse delivered and journaled
    assert summary.status == "completed" and summary.pulses_delivered == 60
    assert len(run.sim.pulse_log()) == 60
    assert disk["refused"] == 3  # each train's prefix hit the full disk
    # the operator was told: the RECORDS alarm, journaled
    assert len(recorder.warnings) == 3
    assert all("not copied to the store" in w for w in recorder.warnings)
    records = read(journal.path)
    alarms = [r["payload"] for r in records if r["event"] == "alarm"]
    assert [a["code"] for a in alarms] == ["RECORDS"], alarms
    # the local journal is the record of truth: whole, intact, every pulse in it
    result = verify(journal.path)
    assert result.ok and result.closed and result.status == "completed"
    assert (
        sum(r["event"] == "pulse" for r in records)
        + sum(int(r["payload"]["pulses"]) for r in records if r["event"] == "train_end")
        >= 60
    )
    with Store.open() as store:
        assert stored_prefix(store, journal.session_id) is None
        assert stored_journal(store, journal.session_id) is None
        row = get_session(store, journal.session_id)
    assert row.status == "completed" and row.pulses_delivered == 60

    # still full: sync says so (a records fault, exit 7: not tampering, exit 8) and
    # leaves the journal where it is
    assert main(["records", "sync"]) == ExitCode.RECORDS
    assert "NOT UPLOADED" in capsys.readouterr().err
    # space again: a later sync uploads it, byte for byte
    disk["full"] = False
    assert main(["records", "sync"]) == 0
    assert f"uploaded {journal.session_id}" in capsys.readouterr().out
    with Store.open() as store:
        assert stored_journal(store, journal.session_id) == journal.path.read_bytes()
