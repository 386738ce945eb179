"""Issue 13 item 1 as reported: each of these passed as "intact" (exit 0) or was
"recovered" before the seal and the store-aware verification. They use only the APIs the
reporter had (the writer, the session rows, the CLI), so they ran against the old code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events, journals_dir
from stimctl.records import Store, add_subject, begin_session, end_session

TAMPERED = 8  # ExitCode.TAMPERED; the literal keeps this file runnable on the old tree


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A completed 3-train session of 30 pulses with its row ended."""
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    clock = VirtualClock(start=1.0)
    journal = Journal.create(journals_dir(), "sess-1", clock=clock)
    journal.append(events.SESSION_START, {"subject": {"id": "S-01"}})
    for train in range(3):
        journal.append(events.TRAIN_START, {"train": train})
        for index in range(10):
            journal.append(events.PULSE, {"train": train, "index": train * 10 + index})
        journal.append(events.TRAIN_END, {"train": train, "pulses": 10})
    journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": 30})
    journal.close()
    now = dt.datetime.now(dt.UTC)
    with Store.open() as store:
        add_subject(store, "S-01")
        begin_session(
            store,
            session_id="sess-1",
            subject_id="S-01",
            protocol_name="p",
            protocol_digest="d" * 64,
            pulses_planned=30,
            started_at=now,
            journal_path=journal.path,
        )
        end_session(
            store,
            "sess-1",
            status="completed",
            pulses_delivered=30,
            chain_head=journal.head,
            ended_at=now,
        )
    return journal.path


def _cut(path: Path, lines: int) -> None:
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-lines]))


@pytest.mark.parametrize("lines", [1, 5])
def test_verify_by_id_fails_when_the_last_lines_are_cut(recorded: Path, lines: int) -> None:
    _cut(recorded, lines)
    assert main(["journal", "verify", "sess-1"]) == TAMPERED


def test_verify_fails_on_an_empty_journal(recorded: Path) -> None:
    recorded.write_bytes(b"")
    assert main(["journal", "verify", "sess-1"]) == TAMPERED


def test_verify_fails_when_the_file_is_cut_in_half(recorded: Path) -> None:
    data = recorded.read_bytes()
    recorded.write_bytes(data[: len(data) // 2])
    assert main(["journal", "verify", "sess-1"]) == TAMPERED


def test_verify_fails_after_an_in_place_edit_of_session_end(recorded: Path) -> None:
    text = recorded.read_text()
    recorded.write_text(text.replace('"status":"completed"', '"status":"aborted"'))
    assert main(["journal", "verify", str(recorded)]) == TAMPERED


def test_report_to_stdout_exits_8_and_marks_the_tsv(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _cut(recorded, 5)
    capsys.readouterr()
    assert main(["report", "sess-1", "--format", "tsv", "-o", "-"]) == TAMPERED
    assert "tampered" in capsys.readouterr().out.splitlines()[0]


def test_the_next_run_does_not_recover_a_cut_completed_journal(recorded: Path) -> None:
    from stimctl.session.runner import recover_interrupted

    _cut(recorded, 5)
    lines = recover_interrupted(clock=VirtualClock())
    assert not any("closed as interrupted" in line for line in lines)
    assert b"interrupted" not in recorded.read_bytes()
