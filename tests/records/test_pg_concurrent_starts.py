"""Consoles sharing one PostgreSQL server start sessions at once (issue 17 item 2).

Real processes (`stimctl run` on the byte-level simulator), each with its own
$STIMCTL_HOME (its own journals, as on its own console), all with one
$STIMCTL_DATABASE_URL, against a real PostgreSQL server. The per-subject lock is the
subject row's ``SELECT ... FOR UPDATE`` held across reconcile, history, check and insert.
Every session's journal ends up in the store (item 3).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stimctl.records import (
    ScreeningRecord,
    Store,
    ThresholdRecord,
    add_subject,
    list_sessions,
    record_screening,
    record_threshold,
)
from stimctl.records.journal_store import stored_journal
from stimctl.records.sessions import running_rows
from stimctl.records.start import SessionStart, start_session
from stimctl.records.values import utc_text
from stimctl.safety.inputs import History
from stimctl.safety.tables import screening_table
from tests.identity.people import SECRETS, register
from tests.session.records_helpers import write_protocol

SUBJECTS = ("S-01", "S-02", "S-03", "S-04")


def _enroll(store: Store, subject_id: str) -> None:
    today = dt.datetime.now(dt.UTC).date()
    add_subject(store, subject_id)
    record_screening(
        store,
        ScreeningRecord(
            subject_id=subject_id,
            questionnaire="rossi-2011",
            answered_on=today,
            answers=dict.fromkeys(screening_table().items, False),
        ),
    )
    record_threshold(store, ThresholdRecord(subject_id, 40.0, "emg", today))


def _console(home: Path, url: str, protocol: Path, subject_id: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "STIMCTL_SITE"}
    env.update(STIMCTL_HOME=str(home), STIMCTL_DATABASE_URL=url)
    args = ["run", str(protocol), "--subject", subject_id, "--json", "--headless", "--yes"]
    args += ["--device", "magpro-x100", "--port", "stimsim://magpro-x100"]
    args += ["--operator", "op-ann", "--password-stdin"]
    home.mkdir(parents=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "stimctl", *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=(home / "stdout").open("w"),
        stderr=(home / "stderr").open("w"),
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(SECRETS["op-ann"] + "\n")
    process.stdin.close()
    return process


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")
def test_eight_consoles_four_subjects_twice_a_day_on_one_server(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    with Store.open() as store:
        register(store, "dr-lee", "op-ann")
        for subject_id in SUBJECTS:
            _enroll(store, subject_id)
    protocol = write_protocol(tmp_path, pulses=6)  # a 6 s train: every start overlaps
    # Each subject's two sessions of the day requested at once, from two consoles.
    consoles = [
        (subject_id, _console(tmp_path / f"console-{n}", pg_url, protocol, subject_id))
        for n, subject_id in enumerate(SUBJECTS * 2)
    ]
    outcomes: dict[str, list[int]] = {s: [] for s in SUBJECTS}
    errors: list[str] = []
    for n, (subject_id, process) in enumerate(consoles):
        outcomes[subject_id].append(process.wait(timeout=300))
        if process.returncode:
            errors.append((tmp_path / f"console-{n}" / "stderr").read_text())
    # The standard schedule allows one session a day (SES-1): one runs, one is refused.
    assert {s: sorted(codes) for s, codes in outcomes.items()} == {s: [0, 1] for s in SUBJECTS}, (
        errors
    )
    for err in errors:
        # (a line before it notes the test's protocol file is not a shipped one)
        last = err.strip().splitlines()[-1]
        assert "override required" in last and "SES-1" in last and "Traceback" not in err
    with Store.open() as store:
        with store.read() as conn:
            assert running_rows(conn) == []  # every row closed
        for subject_id in SUBJECTS:
            rows = list_sessions(store, subject_id)
            assert [(r.status, r.pulses_delivered) for r in rows] == [("completed", 6)]
            # every journal in the store, byte for byte the console's file (issue 17 item 3)
            [row] = rows
            assert row.journal_path is not None
            assert stored_journal(store, row.id) == Path(row.journal_path).read_bytes()


def _start(store: Store, subject_id: str, session_id: str) -> None:
    start = SessionStart(
        subject_id=subject_id,
        session_id=session_id,
        protocol_name="p",
        protocol_digest="d" * 64,
        pulses_planned=10,
        started_at=dt.datetime.now(dt.UTC),
    )

    def check(history: History, now: dt.datetime) -> None:
        if any(s.started_at.date() == now.date() for s in history.sessions):
            raise RuntimeError(f"{subject_id} already has a session today")

    start_session(store, start, check)


def test_the_subject_lock_holds_one_subject_and_not_the_others(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Console A holds S-01's lock; B's start for S-01 waits for A's commit and then sees
    A's row; C's start for S-02 goes ahead meanwhile."""
    monkeypatch.setenv("STIMCTL_DATABASE_URL", pg_url)
    with Store.open() as setup:
        add_subject(setup, "S-01")
        add_subject(setup, "S-02")
    a, b, c = Store.open(), Store.open(), Store.open()
    refused: list[BaseException] = []
    done = threading.Event()

    def second_start() -> None:
        try:
            _start(b, "S-01", "b-1")
        except RuntimeError as exc:
            refused.append(exc)
        finally:
            done.set()

    try:
        with a.write() as conn:
            a.lock_subject(conn, "S-01")
            waiter = threading.Thread(target=second_start)
            waiter.start()
            time.sleep(0.5)
            assert not done.is_set()  # B waits on S-01's row lock
            began = time.monotonic()
            _start(c, "S-02", "c-1")  # another subject is not held up
            assert time.monotonic() - began < 5
            conn.execute(
                "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest,"
                " status, pulses_planned, started_at) VALUES (?, ?, 'p', ?, 'completed', 10, ?)",
                ("a-1", "S-01", "d" * 64, utc_text(dt.datetime.now(dt.UTC))),
            )
        waiter.join(timeout=30)
        assert done.is_set()
        assert [str(e) for e in refused] == ["S-01 already has a session today"]
        assert [s.id for s in list_sessions(a, "S-01")] == ["a-1"]
        assert [s.id for s in list_sessions(a, "S-02")] == ["c-1"]
    finally:
        for store in (a, b, c):
            store.close()
