"""Crash recovery: unfinished journals are found and closed with the exact pulse count."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.journal import (
    Journal,
    JournalBusy,
    JournalClosed,
    JournalTampered,
    close_interrupted,
    count_pulses,
    events,
    find_unfinished,
    read,
    verify,
)

from .conftest import CROSSING_PULSES, SteppingWallClock, lines_of, power_cut, write_session


def test_find_unfinished_lists_only_journals_without_session_end(tmp_path: Path) -> None:
    write_session(tmp_path, "done", close=True)
    open_path, _ = write_session(tmp_path, "crashed", close=False)
    (tmp_path / "notes.txt").write_text("not a journal")
    assert find_unfinished(tmp_path) == [open_path]


def test_find_unfinished_includes_a_torn_session_end(tmp_path: Path) -> None:
    path, _ = write_session(tmp_path, "s", close=True)
    path.write_bytes(path.read_bytes()[:-20])
    assert find_unfinished(tmp_path) == [path]


def test_find_unfinished_skips_journals_a_live_process_writes(
    tmp_path: Path, clock: VirtualClock
) -> None:
    with Journal.create(tmp_path, "live", clock=clock) as journal:
        journal.append(events.SESSION_START, {})
        assert find_unfinished(tmp_path) == []
        assert find_unfinished(tmp_path, include_live=True) == [journal.path]
        with pytest.raises(JournalBusy):
            close_interrupted(journal.path, clock=clock)
    assert find_unfinished(tmp_path) == [journal.path]


def test_find_unfinished_in_a_missing_directory(tmp_path: Path) -> None:
    assert find_unfinished(tmp_path / "nope") == []


def test_close_interrupted_counts_the_pulses_and_closes(
    tmp_path: Path, clock: VirtualClock, wall: SteppingWallClock
) -> None:
    path, head = write_session(tmp_path, pulses=7, close=False)
    summary = close_interrupted(path, clock=clock, utc_now=wall)
    assert summary.pulses_delivered == 7
    assert summary.count.exact
    assert summary.torn_bytes == 0
    result = verify(path)
    assert result.ok
    assert result.closed
    assert result.status == "interrupted"
    assert summary.head == result.head
    assert summary.records == result.records
    closing, seal = read(path)[-2:]
    assert closing == summary.closing_record
    assert seal["event"] == "seal" and seal["actor"] == "recovery"
    assert seal["payload"]["sealed_by"] == "recovery" and seal["payload"]["pulses"] == 7
    assert closing["actor"] == "recovery"
    assert closing["prev"] == head
    assert closing["payload"]["pulses_delivered"] == 7
    assert closing["payload"]["torn_tail"] is None
    assert find_unfinished(tmp_path) == []


def test_close_interrupted_cuts_a_torn_line_and_keeps_its_bytes(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path, _ = write_session(tmp_path, pulses=4, close=False)
    # A crash while writing a fifth pulse record, with a cut multi-byte character.
    torn = '{"actor":"engine","event":"pulse","payload":{"note":"é'.encode()[:-1]
    path.write_bytes(path.read_bytes() + torn)
    summary = close_interrupted(path, clock=clock)
    assert summary.pulses_delivered == 4
    assert summary.torn_bytes == len(torn)
    kept = summary.closing_record["payload"]["torn_tail"]
    assert kept["bytes"] == len(torn)
    assert base64.b64decode(kept["base64"]) == torn
    result = verify(path)
    assert result.ok
    assert not result.truncated
    assert result.closed


def test_close_interrupted_refuses_a_tampered_journal_and_leaves_it_untouched(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path, _ = write_session(tmp_path, pulses=4, close=False)
    lines = lines_of(path)
    del lines[3]
    path.write_bytes(b"".join(lines) + b'{"torn')
    before = path.read_bytes()
    with pytest.raises(JournalTampered, match="not closing it"):
        close_interrupted(path, clock=clock)
    assert path.read_bytes() == before


def test_close_interrupted_refuses_a_closed_journal(tmp_path: Path, clock: VirtualClock) -> None:
    path, _ = write_session(tmp_path, close=True)
    before = path.read_bytes()
    with pytest.raises(JournalClosed, match="already closed"):
        close_interrupted(path, clock=clock)
    assert path.read_bytes() == before


def test_close_interrupted_on_a_journal_that_never_got_its_first_record(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"actor":"engine","ev')
    summary = close_interrupted(path, clock=clock)
    assert summary.pulses_delivered == 0
    records = read(path)
    assert [r["event"] for r in records] == ["session_start", "session_end", "seal"]
    assert records[0]["payload"]["recovered"] is True


def _records_of(tmp_path: Path, script: list[tuple[str, dict[str, object]]]) -> Path:
    with Journal.create(tmp_path, "s", clock=VirtualClock()) as journal:
        journal.append(events.SESSION_START, {})
        for event, payload in script:
            journal.append(event, payload)
        return journal.path


def test_pulse_records_win_over_train_end_and_train_end_counts_trains_without_them(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = _records_of(
        tmp_path,
        [
            (events.TRAIN_START, {"train": 0}),
            (events.TRAIN_END, {"train": 0, "pulses": 50}),  # per-train journaling
            (events.TRAIN_START, {"train": 1}),
            (events.PULSE, {"train": 1, "index": 50}),
            (events.PULSE, {"train": 1, "index": 51}),
            (events.TRAIN_START, {"train": 2}),  # crash inside train 2, pulse journaling
            (events.PULSE, {"train": 2, "index": 52}),
        ],
    )
    summary = close_interrupted(path, clock=clock)
    assert summary.pulses_delivered == 53
    assert summary.count.exact
    assert summary.count.open_trains == (1, 2)


def test_an_open_train_without_pulse_records_makes_the_count_inexact(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = _records_of(
        tmp_path,
        [
            (events.TRAIN_START, {"train": 0}),
            (events.TRAIN_END, {"train": 0, "pulses": 50}),
            (events.TRAIN_START, {"train": 1}),
        ],
    )
    summary = close_interrupted(path, clock=clock)
    assert summary.pulses_delivered == 50
    assert not summary.count.exact
    assert summary.closing_record["payload"]["uncounted_trains"] == [1]
    assert summary.closing_record["payload"]["pulse_count_exact"] is False


def test_train_end_disagreeing_with_pulse_records_is_flagged() -> None:
    records = [
        {"event": events.PULSE, "payload": {"train": 0, "index": 0}},
        {"event": events.TRAIN_END, "payload": {"train": 0, "pulses": 2}},
    ]
    count = count_pulses(records)  # type: ignore[arg-type]
    assert count.pulses == 1
    assert count.mismatched_trains == (0,)
    assert not count.exact


def test_close_interrupted_cuts_a_zero_filled_last_line(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path, _ = write_session(tmp_path, pulses=CROSSING_PULSES, close=False)
    wrecked = power_cut(lines_of(path))
    path.write_bytes(b"".join(wrecked))
    summary = close_interrupted(path, clock=clock)
    assert summary.torn_bytes == len(wrecked[-1])
    # The wrecked line was train_end: the pulse records still count.
    assert summary.pulses_delivered == CROSSING_PULSES
    assert summary.count.open_trains == (0,)
    assert verify(path).closed
