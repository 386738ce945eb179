"""Journals in the store, content-addressed (issue 17 item 3): uploaded only when they
verify, linked from the session row by SHA-256, readable and verifiable by any console,
checked against their digest when read back; pending ones uploaded by `records sync`.
Repository tests on both backends; the CLI on SQLite and, in
test_pg_concurrent_starts, eight real consoles on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode, RecordsError
from stimctl.journal import JournalTampered
from stimctl.journal.attest import Outcome
from stimctl.records import Store, begin_session, get_session
from stimctl.records.journal_check import attest_session
from stimctl.records.journal_store import (
    journal_file,
    linked_digest,
    stored_journal,
    sync_journals,
    upload_journal,
)
from stimctl.records.trains import course_trains
from tests.records.conftest import DIGEST, NOW
from tests.records.treated import add_session
from tests.session.records_helpers import enroll, sessions_of, write_protocol


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def _local(store: Store, session_id: str) -> Path:
    path = get_session(store, session_id).journal_path
    assert path is not None
    return Path(path)


def test_an_ended_journal_is_stored_under_its_sha256_and_linked_from_the_row(
    store: Store, subject: str, tmp_path: Path
) -> None:
    add_session(store, tmp_path, "sess-1", 0)
    data = _local(store, "sess-1").read_bytes()
    assert linked_digest(store, "sess-1") is None
    assert upload_journal(store, "sess-1") == "uploaded"
    assert linked_digest(store, "sess-1") == hashlib.sha256(data).hexdigest()
    assert stored_journal(store, "sess-1") == data
    assert upload_journal(store, "sess-1") == "already"
    with store.read() as conn:
        assert conn.execute("SELECT count(*), sum(size) FROM journal_blobs").fetchone() == (
            1,
            len(data),
        )


def test_a_running_session_is_not_uploaded(store: Store, subject: str, tmp_path: Path) -> None:
    begin_session(
        store,
        session_id="live-1",
        subject_id=subject,
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=10,
        started_at=NOW,
        journal_path=tmp_path / "live-1.jsonl",
    )
    assert upload_journal(store, "live-1") == "running"
    assert stored_journal(store, "live-1") is None


def test_a_rewritten_journal_is_refused_and_nothing_is_stored(
    store: Store, subject: str, tmp_path: Path
) -> None:
    add_session(store, tmp_path, "sess-1", 0)
    path = _local(store, "sess-1")
    path.write_bytes(path.read_bytes().replace(b'"pulses":10', b'"pulses":12', 1))
    with pytest.raises(JournalTampered, match="does not verify"):
        upload_journal(store, "sess-1")
    assert linked_digest(store, "sess-1") is None
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM journal_blobs").fetchone() == (0,)


def test_another_console_verifies_and_reads_the_stored_copy(
    store: Store, subject: str, tmp_path: Path
) -> None:
    add_session(store, tmp_path, "sess-1", 0)
    upload_journal(store, "sess-1")
    original = _local(store, "sess-1").read_bytes()
    shutil.rmtree(tmp_path / "journals")  # as seen from a console that did not run it
    verdict = attest_session(store, "sess-1")
    assert verdict.outcome in (Outcome.INTACT, Outcome.UNSIGNED), verdict.message
    copy = journal_file(store, get_session(store, "sess-1"))
    assert copy is not None and copy.read_bytes() == original
    assert copy.name == "sess-1.jsonl"
    [session] = course_trains(store, subject)
    assert len(session.trains) == 2  # exports and course reports read the stored copy


def test_a_damaged_stored_copy_is_refused(store: Store, subject: str, tmp_path: Path) -> None:
    add_session(store, tmp_path, "sess-1", 0)
    upload_journal(store, "sess-1")
    with store.write() as conn:
        conn.execute("UPDATE journal_blobs SET content = ?", (b"{}\n",))
    with pytest.raises(RecordsError, match="does not match its digest"):
        stored_journal(store, "sess-1")


def test_sync_uploads_what_is_here_and_leaves_other_consoles_journals(
    store: Store, subject: str, tmp_path: Path
) -> None:
    add_session(store, tmp_path, "sess-1", 0)
    add_session(store, tmp_path, "sess-2", 1)
    add_session(store, tmp_path, "sess-3", 2)
    _local(store, "sess-3").unlink()  # ran on another console
    result = sync_journals(store, limit=1)
    assert (result.uploaded, result.failed) == (["sess-2"], [])  # newest first
    result = sync_journals(store)
    assert (result.uploaded, result.elsewhere, result.failed) == (["sess-1"], ["sess-3"], [])


def test_a_missing_session_is_a_config_error(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="unknown session"):
        upload_journal(store, "nope")


# --- the CLI (SQLite) ----------------------------------------------------------------------


def test_a_recorded_dry_run_uploads_its_journal_and_any_console_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    enroll(home)
    protocol = write_protocol(tmp_path, pulses=3)
    assert main(["dry-run", str(protocol), "--subject", "S-01", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    [row] = sessions_of(home)
    local = Path(summary["journal"])
    with Store.open(home / "stimctl.db") as store:
        assert stored_journal(store, row.id) == local.read_bytes()
    local.unlink()  # the report now comes from the store's copy
    assert main(["report", row.id, "--format", "json", "-o", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["simulated"] is True
    assert main(["records", "journal", row.id]) == 0
    copy = Path(capsys.readouterr().out.strip())
    assert copy.parent.name == "journals-from-store"


def test_records_sync_uploads_pending_journals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    with Store.open(tmp_path / "stimctl.db") as store:
        from stimctl.records import ThresholdRecord, add_subject, record_threshold

        add_subject(store, "S-01")
        record_threshold(store, ThresholdRecord("S-01", 50.0, "emg", NOW.date()))
        add_session(store, tmp_path, "sess-1", 0)
    assert main(["records", "sync"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "uploaded sess-1"
    assert "1 uploaded, 0 not uploaded, 0 on other consoles" in captured.err
    with Store.open(tmp_path / "stimctl.db") as store:
        _local(store, "sess-1").write_bytes(b"not a journal\n")
        with store.write() as conn:
            conn.execute("UPDATE sessions SET journal_digest = NULL")
    assert main(["records", "sync"]) == ExitCode.TAMPERED
    assert "NOT UPLOADED sess-1" in capsys.readouterr().err


def test_an_unreachable_store_at_the_end_only_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli.records_journal_cmd import upload_after_session

    monkeypatch.setenv("STIMCTL_DATABASE_URL", "postgresql://stimctl@127.0.0.1:1/none")
    upload_after_session("sess-1")  # never raises: the local journal waits
    err = capsys.readouterr().err
    assert "stays on this console only" in err and "records sync" in err
    assert len(err.strip().splitlines()) == 1
