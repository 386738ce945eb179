"""Two processes writing at once, and a process killed in the middle of a write.

Real processes (subprocess + SIGKILL) on a real database file: SQLite's locking and
WAL recovery are what is under test, so nothing here can be simulated in one process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stimctl.records import Store, get_session, list_sessions, list_subjects

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

WRITER = """
import datetime as dt, sys, time
from pathlib import Path
from stimctl.records import (Store, ThresholdRecord, add_subject, begin_session,
    end_session, record_threshold)
path, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
start = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
with Store.open(path) as store:
    add_subject(store, name)
    for i in range(count):
        record_threshold(store, ThresholdRecord(name, 50.0, "emg", start.date()))
        row = begin_session(store, subject_id=name, protocol_name="p", protocol_digest="d",
            pulses_planned=10, started_at=start + dt.timedelta(minutes=i))
        end_session(store, row.id, status="completed", pulses_delivered=10,
            chain_head="a" * 64, ended_at=start + dt.timedelta(minutes=i, seconds=30))
print("done", flush=True)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_writing_at_once_both_succeed_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    db, go, count = tmp_path / "stimctl.db", tmp_path / "go", 60
    # Both start on a file that does not exist yet: they also race to create the schema.
    writers = [_spawn(WRITER, str(db), name, str(count), str(go)) for name in ("A", "B")]
    time.sleep(0.3)  # let both import and wait at the gate
    go.touch()
    results = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert out.strip() == "done"
    with Store.open(db) as store:
        assert [s.id for s in list_subjects(store)] == ["A", "B"]
        for name in ("A", "B"):
            rows = list_sessions(store, name)
            assert len(rows) == count
            assert all(r.status == "completed" and r.pulses_delivered == 10 for r in rows)
        with store.read() as conn:
            thresholds = conn.execute("SELECT count(*) FROM motor_thresholds").fetchone()[0]
        assert thresholds == 2 * count
        assert store.integrity_check() == "ok"


HALF_WRITE = """
import datetime as dt, sys, time
from stimctl.records import Store, add_subject
from stimctl.records.models import SessionRecord
from stimctl.records.sessions import insert_session
start = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
with Store.open(sys.argv[1]) as store:
    add_subject(store, "KEPT")
    with store.write() as conn:
        conn.execute("INSERT INTO subjects (id, created_at) VALUES ('LOST', 'x')")
        for i in range(300):
            insert_session(conn, SessionRecord(f"s{i}", "LOST", "p", "d", "completed", 10, 10,
                start + dt.timedelta(minutes=i)))
        print("inside the transaction", flush=True)
        time.sleep(60)
"""


def test_sigkill_inside_a_write_transaction_leaves_nothing_of_it(tmp_path: Path) -> None:
    db = tmp_path / "stimctl.db"
    child = _spawn(HALF_WRITE, str(db))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "inside the transaction"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        assert store.integrity_check() == "ok"
        assert [s.id for s in list_subjects(store)] == ["KEPT"]
        assert list_sessions(store) == []


COMMIT_LOOP = """
import datetime as dt, sys
from stimctl.records import Store, add_subject, begin_session, end_session
start = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
with Store.open(sys.argv[1]) as store:
    add_subject(store, "S-01")
    i = 0
    while True:
        row = begin_session(store, subject_id="S-01", protocol_name="p", protocol_digest="d",
            pulses_planned=100, started_at=start + dt.timedelta(minutes=i))
        end_session(store, row.id, status="completed", pulses_delivered=100,
            chain_head="b" * 64, ended_at=start + dt.timedelta(minutes=i, seconds=20))
        print(row.id, flush=True)
        i += 1
"""


def test_sigkill_during_a_stream_of_commits_keeps_every_acknowledged_row(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stimctl.db"
    child = _spawn(COMMIT_LOOP, str(db))
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(25)]
    os.kill(child.pid, signal.SIGKILL)  # somewhere inside the next begin or end
    child.wait(timeout=30)
    with Store.open(db) as store:
        assert store.integrity_check() == "ok"
        for session_id in acknowledged:
            row = get_session(store, session_id)
            assert (row.status, row.pulses_delivered, row.chain_head) == (
                "completed",
                100,
                "b" * 64,
            )
        rows = list_sessions(store, "S-01")
        # The child may have run ahead of what we read; whatever it committed is whole:
        # ended rows complete, and at most the last one begun but never ended.
        assert {r.id for r in rows} >= set(acknowledged)
        running = [r for r in rows if r.status == "running"]
        assert len(running) <= 1
        assert all(r.pulses_delivered == 0 for r in running)
        ended = [r for r in rows if r.status != "running"]
        assert all((r.pulses_delivered, r.chain_head) == (100, "b" * 64) for r in ended)
        assert all(r.ended_at is not None for r in ended)
