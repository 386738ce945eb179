"""What a session start costs while it holds the subject's lock (bench/bench_records.py).

The start reads the subject's running rows and the look-back history inside its write
transaction; these tests pin the cheap paths and that they weigh rows exactly as the
full session rows do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.records import Store, add_subject, history_for, list_sessions
from stimctl.records.models import SessionRecord
from stimctl.records.sessions import begin_session, get_session, insert_session, running_rows
from stimctl.records.start import SessionStart, start_session
from stimctl.safety.inputs import History, PastSession
from tests.records.conftest import DIGEST, NOW


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def _row(sid: str, days_ago: float, status: str, delivered: int, **extra: object) -> SessionRecord:
    started = NOW - dt.timedelta(days=days_ago)
    ended = None if status == "running" else started + dt.timedelta(minutes=10)
    return SessionRecord(
        id=sid,
        subject_id="S-01",
        protocol_name="dep-saint",
        protocol_digest=DIGEST,
        status=status,
        pulses_planned=1800,
        pulses_delivered=delivered,
        started_at=started,
        ended_at=ended,
        protocol_class="itbs",
        **extra,  # type: ignore[arg-type]
    )


def test_history_weighs_each_kind_of_row_as_the_session_rows_do(store: Store, subject: str) -> None:
    rows = [
        _row("old", 60, "completed", 1800),  # before the look-back, not of the last three
        _row("completed", 3, "completed", 1800),
        _row("inexact", 2, "interrupted", 600, pulses_exact=False),
        _row("none-given", 1.5, "aborted", 0),
        _row("dry-run", 1, "completed", 1800, simulated=True),
        _row("live", 0.01, "running", 300),
    ]
    with store.write() as conn:
        for row in rows:
            insert_session(conn, row)
    on_record = {r.id: r for r in list_sessions(store, "S-01")}

    def past(sid: str) -> PastSession:
        return PastSession(
            started_at=on_record[sid].started_at,
            pulses_delivered=on_record[sid].rule_pulses,
            protocol_class=on_record[sid].protocol_class,
            protocol_name=on_record[sid].protocol_name,
            status=on_record[sid].status,
            ended_at=on_record[sid].ended_at,
        )

    history = history_for(store, "S-01", NOW)
    wanted = ["completed", "inexact", "none-given", "live"]
    assert history.sessions == tuple(past(sid) for sid in wanted)
    assert [s.pulses_delivered for s in history.sessions] == [1800, 1800, 0, 1800]
    # A one-day look-back: the last three sessions that count come from the older read.
    short = history_for(store, "S-01", NOW, lookback_days=1)
    assert short.sessions == tuple(past(sid) for sid in ["completed", "inexact", "live"])


def test_running_rows_are_found_through_the_partial_index(db_path: Path) -> None:
    # SQLite only: PostgreSQL's planner chooses by table statistics (the SQL is the same).
    with Store.open(db_path) as sqlite_store:
        add_subject(sqlite_store, "S-01")
        statements: list[str] = []
        with sqlite_store.read() as conn:
            conn.set_trace_callback(statements.append)
            try:
                running_rows(conn, "S-01")
            finally:
                conn.set_trace_callback(None)
            [query] = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "sessions_running" in plan, plan


def test_running_rows_come_oldest_first(store: Store, subject: str) -> None:
    with store.write() as conn:
        for sid, days_ago in (("b", 0.5), ("c", 0.1), ("a", 0.5), ("d", 0.9)):
            insert_session(conn, _row(sid, days_ago, "running", 0))
        assert [r.id for r in running_rows(conn, "S-01")] == ["d", "a", "b", "c"]
        assert [r.id for r in running_rows(conn)] == ["d", "a", "b", "c"]


def test_a_start_with_no_running_row_takes_one_write_transaction(
    store: Store, subject: str, mocker: MockerFixture
) -> None:
    writes = mocker.spy(store, "write")
    request = SessionStart(
        subject_id="S-01",
        session_id="first",
        protocol_name="dep-saint",
        protocol_digest=DIGEST,
        pulses_planned=1800,
        started_at=NOW,
    )

    def check(history: History, at: dt.datetime) -> int:
        return len(history.sessions)

    started = start_session(store, request, check)
    assert started.decision == 0 and writes.call_count == 1
    # Now S-01 has a running row (this live process owns it): the start's batch sees it
    # and gives up without writing, reconciles in a transaction of its own, and starts
    # again with the reconcile under the lock; the live row stays running.
    second = start_session(store, SessionStart(**{**request.__dict__, "session_id": "two"}), check)
    assert writes.call_count == 4 and second.decision == 1 and second.reconciled == ()


def test_a_session_start_carries_every_field_into_the_row(store: Store, subject: str) -> None:
    request = SessionStart(
        subject_id="S-01",
        session_id="full",
        protocol_name="dep-saint",
        protocol_digest=DIGEST,
        pulses_planned=1800,
        started_at=NOW,
        journal_path="/j/full.jsonl",
        operator_id="op-1",
        device="magstim-rapid2",
        coil="d70",
        protocol_class="itbs",
        simulated=True,
        mode="research",
        study_id="ST-1",
    )
    row = start_session(store, request, lambda history, at: None).record
    stored = get_session(store, "full")
    assert stored == row
    for name in ("journal_path", "operator_id", "device", "coil", "protocol_class", "mode"):
        assert getattr(stored, name) == getattr(request, name), name
    assert stored.simulated and stored.study_id == "ST-1" and stored.owner_pid is not None
    assert stored.threshold_id is not None  # the subject's latest threshold


def test_an_unknown_column_is_refused_not_dropped(store: Store, subject: str) -> None:
    with pytest.raises(TypeError, match="pulses_plannd"):
        begin_session(
            store,
            subject_id="S-01",
            protocol_name="p",
            protocol_digest=DIGEST,
            pulses_planned=1,
            started_at=NOW,
            pulses_plannd=2,  # type: ignore[call-arg]
        )
