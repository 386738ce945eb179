"""The chain head stored with a session detects a rewritten journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import RecordsError, StateError
from stimctl.journal import close_interrupted, find_unfinished
from stimctl.journal.record import encode, line_hash
from stimctl.records import (
    Store,
    begin_session,
    end_session,
    get_session,
    reconcile_session,
    update_session_progress,
    verify_session_journal,
)
from tests.records.conftest import DIGEST, NOW, write_journal


def _recorded(store: Store, tmp_path: Path, subject: str, sid: str = "sess-1") -> Path:
    path, head, pulses = write_journal(tmp_path / "journals", sid)
    begin_session(
        store,
        session_id=sid,
        subject_id=subject,
        protocol_name="dep-fda-10hz",
        protocol_digest=DIGEST,
        pulses_planned=pulses,
        started_at=NOW,
        journal_path=path,
    )
    end_session(
        store, sid, status="completed", pulses_delivered=pulses, chain_head=head, ended_at=NOW
    )
    return path


def _rechain(lines: list[dict[str, object]]) -> bytes:
    """Re-serialise records with a freshly computed hash chain (a careful forger)."""
    out, prev = [], "0" * 64
    for record in lines:
        record["prev"] = prev
        payload = record["payload"]
        if record["event"] == "seal":  # a careful forger fixes the seal's copy too
            payload["final_hash"] = prev  # type: ignore[index]
        line = encode(record)
        prev = line_hash(line)
        out.append(line)
    return b"\n".join(out) + b"\n"


def test_an_intact_journal_matches_its_record(store: Store, subject: str, tmp_path: Path) -> None:
    _recorded(store, tmp_path, subject)
    check = verify_session_journal(store, "sess-1")
    assert check.ok, check.reason
    assert check.journal_pulses == check.recorded_pulses == 20


def test_a_journal_rewritten_with_a_valid_chain_is_detected_by_the_stored_head(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path = _recorded(store, tmp_path, subject)
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    records[2]["payload"]["intensity_pct_mso"] = 80.0  # the forger changes the dose
    path.write_bytes(_rechain(records))
    check = verify_session_journal(store, "sess-1")
    assert not check.ok
    assert "rewritten" in check.reason


def test_a_journal_whose_last_record_was_edited_is_detected(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path = _recorded(store, tmp_path, subject)
    lines = path.read_bytes().splitlines()
    last = json.loads(lines[-2])  # session_end (the seal follows it)
    last["payload"]["pulses_delivered"] = 19
    lines[-2] = encode(last)
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert not verify_session_journal(store, "sess-1").ok


def test_a_missing_journal_is_reported(store: Store, subject: str, tmp_path: Path) -> None:
    _recorded(store, tmp_path, subject).unlink()
    check = verify_session_journal(store, "sess-1")
    assert not check.ok and "missing" in check.reason


def test_a_record_that_disagrees_with_the_journal_count_is_reported(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, head, _ = write_journal(tmp_path / "journals", "sess-2")
    begin_session(
        store,
        session_id="sess-2",
        subject_id=subject,
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=20,
        started_at=NOW,
        journal_path=path,
    )
    end_session(
        store, "sess-2", status="completed", pulses_delivered=25, chain_head=head, ended_at=NOW
    )
    check = verify_session_journal(store, "sess-2")
    assert not check.ok
    assert check.reason == "the store says 25 pulses were delivered, the journal 20"


def test_reconcile_carries_crash_recovery_back_into_the_row(
    store: Store, subject: str, tmp_path: Path
) -> None:
    journals = tmp_path / "journals"
    path, head, pulses = write_journal(journals, "sess-3", status=None)  # the crash
    begin_session(
        store,
        session_id="sess-3",
        subject_id=subject,
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=40,
        started_at=NOW,
        journal_path=path,
    )
    update_session_progress(store, "sess-3", pulses_delivered=10, chain_head=head)
    with pytest.raises(StateError, match="not closed"):
        reconcile_session(store, "sess-3")
    for unfinished in find_unfinished(journals):
        close_interrupted(unfinished, clock=VirtualClock())
    row = reconcile_session(store, "sess-3")
    assert (row.status, row.pulses_delivered) == ("interrupted", pulses)
    assert verify_session_journal(store, "sess-3").ok
    assert get_session(store, "sess-3").chain_head != head


def test_reconcile_refuses_a_journal_rewritten_before_recovery(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, head, _ = write_journal(tmp_path / "journals", "sess-4", status="completed")
    begin_session(
        store,
        session_id="sess-4",
        subject_id=subject,
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=20,
        started_at=NOW,
        journal_path=path,
    )
    update_session_progress(store, "sess-4", pulses_delivered=20, chain_head=head)
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    records[-1]["payload"]["status"] = "aborted"
    path.write_bytes(_rechain(records))
    with pytest.raises(RecordsError, match="tampered"):
        reconcile_session(store, "sess-4")
