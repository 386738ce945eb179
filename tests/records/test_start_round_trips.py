"""The session start in one batch: the same history, two round trips on PostgreSQL.

On PostgreSQL each round trip waits for a server process to be scheduled; with eight
consoles on a small machine that wait is most of a start (ADR 0032). The start sends the
subject's lock and every read in one pipeline and its INSERT with the COMMIT. These tests
pin that it reads exactly what `history_for` reads, that a statement sent with the COMMIT
still fails the whole transaction, and the round-trip count itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from collections.abc import Iterator

import pytest
from pytest_mock import MockerFixture

from stimctl.errors import ConfigError
from stimctl.records import (
    AdverseEventRecord,
    CourseRecord,
    Store,
    add_subject,
    history_for,
    list_sessions,
    record_adverse_event,
    start_course,
)
from stimctl.records.batch import execute_later
from stimctl.records.models import SessionRecord
from stimctl.records.pg_dialect import PgConnection
from stimctl.records.pg_store import PostgresStore
from stimctl.records.sessions import (
    end_session,
    get_session,
    insert_query,
    insert_session,
    with_defaults,
)
from stimctl.records.start import SessionStart, start_session
from stimctl.safety.inputs import History
from tests.records.conftest import DIGEST

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.open_url(pg_url) as opened:
        yield opened


def _row(sid: str, days_ago: float, status: str, delivered: int, **extra: object) -> SessionRecord:
    started = NOW - dt.timedelta(days=days_ago)
    fields: dict[str, object] = {
        "id": sid,
        "subject_id": "S-01",
        "protocol_name": "dep-saint",
        "protocol_digest": DIGEST,
        "status": status,
        "pulses_planned": 1800,
        "pulses_delivered": delivered,
        "started_at": started,
        "ended_at": started + dt.timedelta(minutes=10),
        **extra,
    }
    return SessionRecord(**fields)  # type: ignore[arg-type]


def _request(session_id: str, **extra: object) -> SessionStart:
    fields: dict[str, object] = {
        "subject_id": "S-01",
        "session_id": session_id,
        "protocol_name": "dep-saint",
        "protocol_digest": DIGEST,
        "pulses_planned": 1800,
        "started_at": NOW,
        **extra,
    }
    return SessionStart(**fields)  # type: ignore[arg-type]


def _a_varied_history(store: Store) -> None:
    """Every kind of row the rules weigh or leave out: in and before the look-back, a dry
    run, an aborted start with no pulse, an uncertain count, a course, and a blocking
    adverse event."""
    add_subject(store, "S-01")
    add_subject(store, "S-02")
    course = start_course(store, CourseRecord("S-01", "dep-saint", DIGEST, 30, NOW.date()))
    with store.write() as conn:
        for n, days in enumerate((0.2, 1, 2, 3, 34.9, 36, 50, 80, 120)):
            insert_session(conn, _row(f"done-{n}", days, "completed", 1800, course_id=course.id))
        insert_session(conn, _row("dry", 0.1, "completed", 1800, simulated=True))
        insert_session(conn, _row("nothing", 0.3, "aborted", 0, course_id=course.id))
        insert_session(conn, _row("bound", 5, "fault", 10, pulses_exact=False))
        insert_session(conn, _row("other", 0.2, "completed", 1800, subject_id="S-02"))
    record_adverse_event(
        store,
        AdverseEventRecord(subject_id="S-01", kind="seizure", severity="serious", occurred_at=NOW),
    )


def test_the_start_judges_exactly_the_history_history_for_reads(store: Store) -> None:
    _a_varied_history(store)
    seen: list[tuple[History, dt.datetime]] = []

    def check(history: History, at: dt.datetime) -> None:
        seen.append((history, at))
        raise ConfigError("refused, so that the store stays as history_for reads it")

    with pytest.raises(ConfigError, match="refused"):
        start_session(store, _request("new"), check)
    history, at = seen[0]
    assert history == history_for(store, "S-01", at)
    assert history.course_sessions == 9 and history.unresolved_adverse_events
    ids_in_lookback = {s.started_at for s in history.sessions}
    assert len(ids_in_lookback) == 7  # 5 in the look-back + the bound + the last counting older


def test_the_row_gets_the_active_course_and_the_latest_threshold(store: Store) -> None:
    _a_varied_history(store)
    started = start_session(store, _request("new", operator_id="op-7"), lambda h, at: None)
    row = get_session(store, "new")
    assert row.course_id is not None and row.course_id == started.record.course_id
    assert row.operator_id == "op-7" and row.status == "running"
    assert row.started_at == started.record.started_at >= NOW


def test_a_session_id_already_on_record_is_refused_and_nothing_changes(store: Store) -> None:
    _a_varied_history(store)
    before = list_sessions(store, "S-01")
    with pytest.raises(ConfigError, match="already on record"):
        start_session(store, _request("done-0"), lambda h, at: None)
    assert list_sessions(store, "S-01") == before


def test_an_unknown_subject_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="unknown subject 'S-01'"):
        start_session(store, _request("new"), lambda h, at: None)


def test_a_start_on_postgresql_is_two_round_trips(
    pg_store: PostgresStore, mocker: MockerFixture
) -> None:
    _a_varied_history(pg_store)
    pipelines = mocker.spy(PgConnection, "_pipelined")
    raw = pg_store._pg.raw
    single = mocker.spy(raw, "execute")
    start_session(pg_store, _request("new", operator_id="op-1"), lambda h, at: None)
    # The lock and eleven reads with the BEGIN; the operator's first INSERT, the row's
    # INSERT and the COMMIT together. Before the batch: 17 round trips.
    assert (pipelines.call_count, single.call_count) == (2, 0)
    assert get_session(pg_store, "new").status == "running"


def test_a_statement_sent_with_the_commit_that_fails_undoes_the_transaction(
    pg_store: PostgresStore,
) -> None:
    add_subject(pg_store, "S-01")
    with pg_store.write() as conn:
        insert_session(conn, _row("taken", 1, "completed", 1800))

    def first_then_a_duplicate_sent_with_the_commit() -> None:
        with pg_store.write() as conn:
            insert_session(conn, _row("first", 2, "completed", 1800))
            execute_later(conn, insert_query(_row("taken", 3, "completed", 1800)))

    with pytest.raises(ConfigError, match="refused the change"):
        first_then_a_duplicate_sent_with_the_commit()
    assert [s.id for s in list_sessions(pg_store, "S-01")] == ["taken"]
    # The connection is usable: the failed transaction was rolled back, not left open.
    with pg_store.write() as conn:
        insert_session(conn, _row("after", 4, "completed", 1800))
    assert {s.id for s in list_sessions(pg_store, "S-01")} == {"taken", "after"}


def test_a_refused_start_leaves_no_deferred_statement_behind(pg_store: PostgresStore) -> None:
    add_subject(pg_store, "S-01")

    def refuse(history: History, at: dt.datetime) -> None:
        raise ConfigError("refused by the rules")

    with pytest.raises(ConfigError, match="refused by the rules"):
        start_session(pg_store, _request("no"), refuse)
    conn = pg_store._pg
    assert not conn.in_transaction and not conn.discard_deferred()
    start_session(pg_store, _request("yes"), lambda h, at: None)
    assert [s.id for s in list_sessions(pg_store, "S-01")] == ["yes"]


def test_a_row_is_the_request_with_the_lock_time(store: Store) -> None:
    add_subject(store, "S-01")
    request = _request("full", journal_path="/j/full.jsonl", device="dev", coil="c")
    started = start_session(store, request, lambda h, at: None)
    stored = get_session(store, "full")
    assert stored == started.record
    assert dataclasses.replace(stored, started_at=NOW).journal_path == "/j/full.jsonl"


def test_end_session_returns_the_row_as_stored(store: Store) -> None:
    add_subject(store, "S-01")
    started = start_session(store, _request("s"), lambda h, at: None)
    ended_at = started.record.started_at + dt.timedelta(minutes=9, microseconds=123456)
    ended = end_session(
        store, "s", status="stopped", pulses_delivered=12, chain_head="b" * 64, ended_at=ended_at
    )
    assert ended == get_session(store, "s")
    assert (ended.status, ended.pulses_delivered, ended.ended_at) == ("stopped", 12, ended_at)


def test_an_end_on_postgresql_is_two_round_trips(
    pg_store: PostgresStore, mocker: MockerFixture
) -> None:
    add_subject(pg_store, "S-01")
    start_session(pg_store, _request("s"), lambda h, at: None)
    pipelines = mocker.spy(PgConnection, "_pipelined")
    single = mocker.spy(pg_store._pg.raw, "execute")
    end_session(
        pg_store,
        "s",
        status="completed",
        pulses_delivered=1800,
        chain_head="c" * 64,
        ended_at=NOW + dt.timedelta(hours=1),
    )
    assert (pipelines.call_count, single.call_count) == (2, 0)  # was 5


def test_no_garbage_collection_runs_while_the_lock_is_held(store: Store) -> None:
    add_subject(store, "S-01")
    inside: list[bool] = []
    start_session(store, _request("a"), lambda h, at: inside.append(gc.isenabled()))
    assert inside == [False] and gc.isenabled()
    # A caller that had collection off finds it off afterwards, also after a refusal.
    gc.disable()
    try:

        def refuse(history: History, at: dt.datetime) -> None:
            raise ConfigError("no")

        with pytest.raises(ConfigError):
            start_session(store, _request("b"), refuse)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_start_that_waits_too_long_for_the_lock_fails_closed_and_recovers(
    pg_url: str,
) -> None:
    import psycopg

    from stimctl.errors import RecordsError

    with PostgresStore.open_url(pg_url) as setup:
        add_subject(setup, "S-01")
    holder = psycopg.connect(pg_url)
    holder.execute("SELECT id FROM subjects WHERE id = 'S-01' FOR UPDATE")
    with PostgresStore.open_url(pg_url, busy_timeout_s=0.2) as store:
        try:
            with pytest.raises(RecordsError, match="locked by another console"):
                start_session(store, _request("waits"), lambda h, at: None)
        finally:
            holder.rollback()
            holder.close()
        assert list_sessions(store, "S-01") == []
        start_session(store, _request("later"), lambda h, at: None)
        assert [s.id for s in list_sessions(store, "S-01")] == ["later"]


@pytest.mark.parametrize(
    ("given", "course", "expected"),
    [
        ((None, None), ("c-1", "dep-saint"), ("t-latest", "c-1")),  # the defaults
        ((None, None), ("c-1", "pain-m1-10hz"), ("t-latest", None)),  # another protocol's
        (("t-old", "c-9"), ("c-1", "dep-saint"), ("t-old", "c-9")),  # given: kept
        ((None, None), None, ("t-latest", None)),  # no active course
    ],
)
def test_a_rows_defaults_are_one_rule_for_every_start(
    given: tuple[str | None, str | None],
    course: tuple[str, str] | None,
    expected: tuple[str | None, str | None],
) -> None:
    row = _row("s", 0, "running", 0, threshold_id=given[0], course_id=given[1])
    filled = with_defaults(row, latest_threshold_id="t-latest", active_course=course)
    assert (filled.threshold_id, filled.course_id) == expected
