"""Journal listeners (issue 18): they see each record once it is on disk, and a failing
listener never breaks or undoes journaling."""

from __future__ import annotations

from pathlib import Path

from stimctl.clock import VirtualClock
from stimctl.journal import Journal, JournalRecord, events, read


def test_listeners_see_every_record_after_it_is_written(tmp_path: Path) -> None:
    seen: list[tuple[int, str, int]] = []
    journal: Journal

    def listener(record: JournalRecord) -> None:
        # On disk already: the journal counts it.
        seen.append((record["seq"], record["event"], journal.records))

    journal = Journal.create(
        tmp_path, "s1", clock=VirtualClock(), signer=None, listeners=(listener,)
    )
    journal.append(events.SESSION_START, {})
    journal.append(events.PULSE, {"train": 0, "index": 0})
    journal.append(events.SESSION_END, {"status": "completed"})
    assert [(s, e) for s, e, _ in seen] == [
        (0, "session_start"),
        (1, "pulse"),
        (2, "session_end"),
    ]
    assert all(count > seq for seq, _, count in seen)


def test_a_failing_listener_is_reported_and_journaling_goes_on(tmp_path: Path) -> None:
    later: list[int] = []

    def broken(record: JournalRecord) -> None:
        raise RuntimeError("outlet gone")

    journal = Journal.create(
        tmp_path,
        "s2",
        clock=VirtualClock(),
        signer=None,
        listeners=(broken, lambda record: later.append(record["seq"])),
    )
    journal.append(events.SESSION_START, {})
    journal.append(events.PULSE, {"train": 0, "index": 0})
    journal.append(events.SESSION_END, {"status": "completed"})
    journal.close()
    assert later == [0, 1, 2]  # the next listener still ran
    assert len(journal.listener_failures) == 3
    assert "outlet gone" in journal.listener_failures[1]
    assert "record 1 (pulse)" in journal.listener_failures[1]
    assert [r["event"] for r in read(tmp_path / "s2.jsonl")][-1] == "seal"


def test_a_listener_cannot_change_the_record_the_caller_gets(tmp_path: Path) -> None:
    def meddle(record: JournalRecord) -> None:
        record["payload"]["index"] = 99

    journal = Journal.create(tmp_path, "s3", clock=VirtualClock(), signer=None, listeners=(meddle,))
    journal.append(events.SESSION_START, {})
    written = journal.append(events.PULSE, {"train": 0, "index": 0})
    assert written["payload"]["index"] == 0
