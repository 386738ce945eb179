"""Rows of dead sessions closed from their journals; live ones left alone (item 3b).

Real journal files and real processes for the owners: a finished child's pid is a dead
owner, this test process is a live one, and an open `Journal` holds the writer's lock.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events, read
from stimctl.records import Store, get_session, history_for
from stimctl.records.owner import current_owner, start_token
from stimctl.records.reconcile import reconcile
from stimctl.records.sessions import Owner, begin_session
from tests.records.conftest import NOW, write_journal


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on SQLite and on PostgreSQL (issue 17)."""
    return any_store


def dead_owner() -> Owner:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(child.stdout)
    assert start_token(pid) is None
    return Owner(host=current_owner().host, pid=pid, token="boot:1")


def running(store: Store, sid: str, journal: Path | None, owner: Owner | None) -> None:
    begin_session(
        store,
        subject_id="S-01",
        session_id=sid,
        protocol_name="p",
        protocol_digest="d" * 64,
        protocol_class="hf-rtms",
        pulses_planned=2000,
        started_at=NOW,
        journal_path=journal,
        owner=owner,
    )


def test_a_dead_session_with_a_missing_journal_counts_as_full(
    store: Store, subject: str, tmp_path: Path
) -> None:
    running(store, "gone", tmp_path / "gone.jsonl", dead_owner())
    [result] = reconcile(store)
    assert result.closed and result.status == "interrupted" and not result.pulses_exact
    row = get_session(store, "gone")
    assert row.status == "interrupted" and not row.pulses_exact
    assert row.close_note is not None and "journal missing" in row.close_note
    assert "full session (2000 planned pulses)" in row.close_note
    [past] = history_for(store, "S-01", NOW + dt.timedelta(hours=1)).sessions
    assert past.pulses_delivered == 2000


def test_a_dead_session_is_closed_with_the_journals_exact_count(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, _, pulses = write_journal(tmp_path, "crashed", status=None)
    running(store, "crashed", path, dead_owner())
    [result] = reconcile(store)
    assert result.closed and result.pulses_delivered == pulses == 20 and result.pulses_exact
    row = get_session(store, "crashed")
    assert row.status == "interrupted" and row.pulses_delivered == 20 and row.pulses_exact
    # the journal is closed by reconciliation: a session_end with the status and the
    # count, then only the seal that the journal writes after it
    records = read(path)
    [end_at] = [i for i, r in enumerate(records) if r["event"] == events.SESSION_END]
    end = records[end_at]["payload"]
    assert end["status"] == "interrupted" and end["pulses_delivered"] == 20
    assert [r["event"] for r in records[end_at + 1 :]] == [events.SEAL]
    [past] = history_for(store, "S-01", NOW + dt.timedelta(hours=1)).sessions
    assert past.pulses_delivered == 20


def test_a_count_cut_inside_a_train_is_a_lower_bound_counted_as_full(
    store: Store, subject: str, tmp_path: Path
) -> None:
    with Journal.create(tmp_path, "cut", clock=VirtualClock(start=1.0)) as journal:
        journal.append(events.SESSION_START, {"session_id": "cut"})
        journal.append(events.TRAIN_START, {"train": 0, "pulses_planned": 50})
        journal.append(events.TRAIN_END, {"train": 0, "pulses": 50})
        journal.append(events.TRAIN_START, {"train": 1, "pulses_planned": 50})
        path = journal.path
    running(store, "cut", path, dead_owner())
    [result] = reconcile(store)
    assert result.closed and result.pulses_delivered == 50 and not result.pulses_exact
    assert ">= 50 pulses" in result.line()
    [past] = history_for(store, "S-01", NOW + dt.timedelta(hours=1)).sessions
    assert past.pulses_delivered == 2000


def test_a_journal_the_engine_closed_before_the_process_died_gives_its_status(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, _, pulses = write_journal(tmp_path, "ended", status="completed")
    running(store, "ended", path, dead_owner())
    [result] = reconcile(store)
    assert result.closed and result.status == "completed" and result.pulses_delivered == pulses


def test_live_sessions_are_left_running(store: Store, subject: str, tmp_path: Path) -> None:
    # its journal open in a live writer (the owner recorded is even a dead pid)
    with Journal.create(tmp_path, "live", clock=VirtualClock(start=1.0)) as journal:
        journal.append(events.SESSION_START, {"session_id": "live"})
        running(store, "live", journal.path, dead_owner())
        # no journal yet, and its owner (this process) alive
        running(store, "starting", tmp_path / "starting.jsonl", current_owner())
        # on another console: nothing can be told from here
        running(store, "elsewhere", None, Owner("console-2", 1, "x"))
        results = reconcile(store)
    by_id = {r.session_id: r for r in results}
    assert sorted(by_id) == ["elsewhere", "live", "starting"]
    assert not any(r.closed for r in results)
    assert all(get_session(store, s).status == "running" for s in by_id)
    assert "console-2" in by_id["elsewhere"].line()
    assert "journal is open" in by_id["live"].line()
    assert "is alive" in by_id["starting"].line()
