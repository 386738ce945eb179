"""The records link during a session: never blocks the engine thread on the store, and
its failures reach the operator (an alarm, the journal, a line from the CLI)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pytest_mock import MockerFixture

from stimctl.records import Store
from stimctl.records.store import default_db_path
from stimctl.safety import SiteRules
from stimctl.session import records_link
from stimctl.session.records_link import SessionRecorder
from stimctl.session.runner import prepare
from tests.session.harness import TRAINS, start, write_protocol
from tests.session.records_helpers import enroll, sessions_of
from tests.session.records_helpers import write_protocol as write_protocol_with_pulses

LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
"""


def wait_for(condition: Callable[[], object], timeout_s: float = 1.5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_store_locked_by_another_process_does_not_block_the_engine(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    mocker.patch.object(records_link, "PROGRESS_BUSY_TIMEOUT_S", 1.0, create=True)
    Store.open().close()  # the store exists; another process now holds its write lock
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCK, str(default_db_path())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path, begin=False)
        recorder = SessionRecorder("S-01", run.engine.journal.session_id)
        recorder.attach(run.engine)
        hand_off = run.engine.on_progress
        assert hand_off is not None
        took: list[float] = []

        def timed(pulses: int, head: str) -> None:
            began = time.perf_counter()
            hand_off(pulses, head)
            took.append(time.perf_counter() - began)

        run.engine.on_progress = timed
        run.engine.start()
        summary = run.finish()
        assert summary.status == "completed" and len(took) == 3
        assert max(took) < 0.1, took  # handed over, not written, on the engine thread
        recorder.flush(timeout_s=15)
        assert recorder.warnings and "could not be updated" in recorder.warnings[0]
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=10)


def test_a_failed_row_update_raises_an_alarm_and_the_session_goes_on(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    mocker.patch.object(
        records_link,
        "update_session_progress",
        side_effect=sqlite3.OperationalError("database is locked"),
    )
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path, begin=False)
    recorder = SessionRecorder("S-01", run.engine.journal.session_id)
    recorder.attach(run.engine)
    run.engine.start()
    # 5 s in (after the first train, before the second) time stands still until the
    # writer has failed, so the engine sees the notice while the session runs
    run.at(5.0, lambda: wait_for(lambda: recorder.warnings))
    summary = run.finish()
    recorder.flush()
    assert summary.status == "completed"
    assert "database is locked" in recorder.warnings[0]
    assert any(
        a.startswith("medium: the session's row could not be updated") for a in summary.alarms
    )
    alarms = [r["payload"] for r in run.journal() if r["event"] == "alarm"]  # type: ignore[index]
    assert [a["code"] for a in alarms] == ["RECORDS"]  # type: ignore[index]
    assert "database is locked" in alarms[0]["message"]  # type: ignore[index]


def test_a_superseded_update_is_dropped_when_the_queue_is_full() -> None:
    recorder = SessionRecorder("S-01", "no-writer")
    for pulses in range(records_link.PROGRESS_QUEUE + 3):
        recorder.progress(pulses, "0" * 64)
    assert recorder.dropped == 3
    waiting = [recorder._queue.get_nowait() for _ in range(records_link.PROGRESS_QUEUE)]
    assert waiting[-1] == (records_link.PROGRESS_QUEUE + 2, "0" * 64)
    assert [p for p, _ in waiting] == sorted(p for p, _ in waiting)  # never backwards


def test_the_start_record_plans_the_pulses_of_the_compiled_plan(tmp_path: Path) -> None:
    """The claim records as planned what the engine will send: the compiled plan's
    trains (issue 14 item 1), with the plan's protocol class."""
    home = default_db_path().parent
    enroll(home)
    now = dt.datetime.now(dt.UTC)
    subject, history, _ = records_link.subject_and_history("S-01", now)
    prepared = prepare(
        str(write_protocol_with_pulses(tmp_path, 30)),
        subject,
        "magpro-x100",
        site=SiteRules(),
        history=history,
        require_screening=True,
        now=now,
    )
    recorder, _ = SessionRecorder.claim(
        prepared, "op-ann", "sess-plan", str(tmp_path / "sess-plan.jsonl")
    )
    assert recorder.session_id == "sess-plan"
    (row,) = sessions_of(home)
    sent = sum(train.pulses for train in prepared.plan.trains)
    assert (row.pulses_planned, row.protocol_class) == (30, prepared.plan.derived.protocol_class)
    assert row.pulses_planned == sent
