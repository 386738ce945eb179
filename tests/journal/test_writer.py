"""The writer: canonical lines, the chain, durability and the rules of appending."""

from __future__ import annotations

import errno
import json
import math
import os
import threading
from datetime import datetime
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError
from stimctl.journal import (
    GENESIS,
    InvalidRecord,
    Journal,
    JournalBusy,
    JournalClosed,
    JournalWriteError,
    events,
    line_hash,
    read,
    verify,
)
from stimctl.journal.fsutil import lock_exclusive

from .conftest import SteppingWallClock, lines_of


def _start(journal: Journal) -> None:
    journal.append(events.SESSION_START, {"subject": "S-01"})


def test_round_trip_chain_and_fields(
    tmp_path: Path, clock: VirtualClock, wall: SteppingWallClock
) -> None:
    with Journal.create(tmp_path, "sess-1", clock=clock, utc_now=wall) as journal:
        assert journal.head == GENESIS
        first = journal.append(events.SESSION_START, {"subject": "Zoë"})
        clock.advance(1.5)
        second = journal.append(events.PULSE, {"train": 0, "index": 0}, actor="device")
        head = journal.head

    assert journal.path == tmp_path / "sess-1.jsonl"
    assert journal.session_id == "sess-1"
    assert first["seq"] == 0
    assert first["prev"] == GENESIS
    assert first["mono"] == 100.0
    assert first["utc"] == "2026-11-24T08:45:00.001000Z"
    assert second["seq"] == 1
    assert second["mono"] == 101.5
    assert second["actor"] == "device"
    lines = lines_of(journal.path)
    assert second["prev"] == line_hash(lines[0].rstrip(b"\n"))
    assert head == line_hash(lines[1].rstrip(b"\n"))
    assert read(journal.path) == [first, second]
    result = verify(journal.path)
    assert result.ok
    assert result.records == 2
    assert result.head == head


def test_lines_are_canonical_sorted_compact_utf8(
    tmp_path: Path, clock: VirtualClock, wall: SteppingWallClock
) -> None:
    with Journal.create(tmp_path, "s", clock=clock, utc_now=wall) as journal:
        record = journal.append(events.SESSION_START, {"z": 1, "a": "é"})
    line = lines_of(journal.path)[0]
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert line == expected.encode("utf-8") + b"\n"
    assert "é".encode() in line  # not escaped as \u00e9


def test_operator_actor_names_are_accepted(tmp_path: Path, clock: VirtualClock) -> None:
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        _start(journal)
        record = journal.append(
            events.OPERATOR, {"action": "pause"}, actor=events.operator_actor("jdoe@site-2")
        )
    assert record["actor"] == "operator:jdoe@site-2"


def test_create_refuses_an_existing_journal(tmp_path: Path, clock: VirtualClock) -> None:
    Journal.create(tmp_path, "s", clock=clock).close()
    with pytest.raises(ConfigError, match="already exists"):
        Journal.create(tmp_path, "s", clock=clock)


@pytest.mark.parametrize("session_id", ["", "../evil", "a/b", ".hidden", "x" * 129, "a b"])
def test_create_refuses_session_ids_that_are_not_plain_file_names(
    tmp_path: Path, clock: VirtualClock, session_id: str
) -> None:
    with pytest.raises(ConfigError, match="invalid session id"):
        Journal.create(tmp_path, session_id, clock=clock)
    assert list(tmp_path.iterdir()) == []


def test_first_record_must_be_session_start(tmp_path: Path, clock: VirtualClock) -> None:
    with (
        Journal.create(tmp_path, "s", clock=clock) as journal,
        pytest.raises(InvalidRecord, match="first record must be session_start"),
    ):
        journal.append(events.PULSE, {"train": 0, "index": 0})
    assert journal.path.read_bytes() == b""


@pytest.mark.parametrize(
    ("event", "payload", "actor", "match"),
    [
        ("pluse", {}, "engine", "unknown journal event"),
        (events.STATE, {}, "Engine X", "invalid actor"),
        (events.STATE, {}, "operator:", "invalid actor"),
        (events.STATE, {"x": math.nan}, "engine", "not exact JSON"),
        (events.STATE, {"x": b"bytes"}, "engine", "not exact JSON"),
        (events.STATE, {"x": {1, 2}}, "engine", "not exact JSON"),
        (events.SESSION_END, {}, "engine", "needs a status"),
        (events.SESSION_END, {"status": "done"}, "engine", "needs a status"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(
    tmp_path: Path,
    clock: VirtualClock,
    event: str,
    payload: dict[str, object],
    actor: str,
    match: str,
) -> None:
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        _start(journal)
        before = journal.path.read_bytes()
        with pytest.raises(InvalidRecord, match=match):
            journal.append(event, payload, actor=actor)
        assert journal.path.read_bytes() == before
        # The chain carries on as if the refused append never happened.
        journal.append(events.STATE, {"from": "idle", "to": "ready"})
    assert verify(journal.path).records == 2


def test_naive_wall_clock_is_a_config_error(tmp_path: Path, clock: VirtualClock) -> None:
    naive = datetime(2026, 11, 24, 8, 45)
    with (
        Journal.create(tmp_path, "s", clock=clock, utc_now=lambda: naive) as journal,
        pytest.raises(ConfigError, match="timezone-aware"),
    ):
        _start(journal)


def test_appends_after_session_end_are_refused(tmp_path: Path, clock: VirtualClock) -> None:
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        _start(journal)
        journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": 0})
        assert journal.ended
        with pytest.raises(JournalClosed, match="session_end"):
            journal.append(events.ALARM, {"alarm": "late"})
    assert verify(journal.path).records == 3  # session_start, session_end, seal


def test_appends_after_close_are_refused(tmp_path: Path, clock: VirtualClock) -> None:
    journal = Journal.create(tmp_path, "s", clock=clock)
    _start(journal)
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(JournalClosed, match="was closed"):
        journal.append(events.STATE, {})


def test_fsync_after_every_record_and_directory_on_create(
    tmp_path: Path, clock: VirtualClock, mocker: MockerFixture
) -> None:
    spy = mocker.spy(os, "fsync")
    journal = Journal.create(tmp_path, "s", clock=clock)
    assert spy.call_count == 1  # the directory entry of the new file
    _start(journal)
    for index in range(4):
        journal.append(events.PULSE, {"train": 0, "index": index})
        # The fsync happens inside append, before it returns, once per record.
        assert spy.call_count == index + 3
    journal.close()
    assert spy.call_count == 6


def test_fsync_failure_raises_and_refuses_later_appends(
    tmp_path: Path, clock: VirtualClock, mocker: MockerFixture
) -> None:
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        _start(journal)
        mocker.patch("os.fsync", side_effect=OSError(errno.EIO, "I/O error"))
        with pytest.raises(JournalWriteError, match="write failed"):
            journal.append(events.PULSE, {"train": 0, "index": 0})
        mocker.stopall()
        # The kernel may have dropped the page: never chain onto a record of unknown fate.
        with pytest.raises(JournalWriteError, match="refused appends after a failed write"):
            journal.append(events.PULSE, {"train": 0, "index": 1})


def test_a_second_writer_on_the_same_file_is_refused(tmp_path: Path, clock: VirtualClock) -> None:
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        fd = os.open(journal.path, os.O_WRONLY | os.O_APPEND)
        try:
            with pytest.raises(JournalBusy, match="another process"):
                lock_exclusive(fd, journal.path)
        finally:
            os.close(fd)


def test_concurrent_appends_from_two_threads_keep_the_chain(
    tmp_path: Path, clock: VirtualClock
) -> None:
    per_thread = 200
    journal = Journal.create(tmp_path, "s", clock=clock)
    _start(journal)
    barrier = threading.Barrier(2)

    def writer(actor: str) -> None:
        barrier.wait()
        for index in range(per_thread):
            journal.append(events.DEVICE, {"n": index}, actor=actor)
            clock.advance(0.001)

    threads = [threading.Thread(target=writer, args=(a,)) for a in ("engine", "watchdog")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()

    result = verify(journal.path)
    assert result.ok, result.reason
    assert result.records == 1 + 2 * per_thread
    records = read(journal.path)
    assert [r["seq"] for r in records] == list(range(1 + 2 * per_thread))
    monos = [r["mono"] for r in records]
    assert monos == sorted(monos)  # mono is read inside the lock, in file order
    for actor in ("engine", "watchdog"):
        assert [r["payload"]["n"] for r in records[1:] if r["actor"] == actor] == list(
            range(per_thread)
        )


def test_a_new_journal_directory_is_made_durable_too(
    tmp_path: Path, clock: VirtualClock, mocker: MockerFixture
) -> None:
    spy = mocker.spy(os, "fsync")
    Journal.create(tmp_path / "home" / "journals", "s", clock=clock).close()
    assert spy.call_count == 2  # the file's directory, and that directory's own entry


def test_append_returns_the_record_as_written_not_the_callers_dict(
    tmp_path: Path, clock: VirtualClock
) -> None:
    payload: dict[str, object] = {"rules": ("R1", "R2")}
    with Journal.create(tmp_path, "s", clock=clock) as journal:
        record = journal.append(events.SESSION_START, payload)
        payload["rules"] = "changed later"
    # the journal binds itself to its session: session_start gets the session id
    assert record["payload"] == {"rules": ["R1", "R2"], "session_id": "s"}
    assert read(journal.path)[0] == record
