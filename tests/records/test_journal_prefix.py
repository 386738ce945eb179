"""A running session's journal up to its last train, in the store (issue 17 item 3):
copied after each train by the records link's writer, verified, at the row's chain head,
only ever extended; another console reads it when the whole journal is not there; the
whole journal's upload must extend it. Repository tests on both backends; the dry run
and the locked store on SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from stimctl.cli import main
from stimctl.journal import JournalTampered
from stimctl.journal.record import line_hash
from stimctl.journal.verify import verify_bytes
from stimctl.records import Store, begin_session, end_session, update_session_progress
from stimctl.records.journal_prefix import copy_prefix, store_prefix, stored_prefix
from stimctl.records.journal_store import journal_file, stored_journal, upload_journal
from stimctl.records.sessions import get_session
from stimctl.records.store import default_db_path
from stimctl.session import records_link
from stimctl.session.records_link import SessionRecorder
from tests.records.conftest import DIGEST, NOW, write_journal
from tests.session.harness import PROTOCOL, TRAINS, start
from tests.session.harness import write_protocol as write_engine_protocol
from tests.session.records_helpers import enroll, init_signing_key, sessions_of
from tests.session.test_records_link import LOCK

THREE_TRAINS = ((10, 45.0), (10, 45.0), (10, 45.0))


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def _train_ends(data: bytes) -> list[tuple[bytes, str]]:
    """(prefix, head) after each train_end record."""
    cuts, end = [], 0
    for line in data.splitlines(keepends=True):
        end += len(line)
        if json.loads(line)["event"] == "train_end":
            cuts.append((data[:end], line_hash(line.rstrip(b"\n"))))
    return cuts


def _running(
    store: Store, tmp_path: Path, sid: str = "live-1", status: str | None = None
) -> tuple[Path, bytes]:
    """A session row and its journal of three trains: not ended (its console crashed) or,
    with `status`, ended in the file while the row still runs."""
    path, _, _ = write_journal(tmp_path / "journals", sid, trains=THREE_TRAINS, status=status)
    begin_session(
        store,
        session_id=sid,
        subject_id="S-01",
        protocol_name="p",
        protocol_digest=DIGEST,
        pulses_planned=30,
        started_at=NOW,
        journal_path=path,
    )
    return path, path.read_bytes()


def test_each_train_leaves_a_verified_prefix_that_another_console_reads(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, data = _running(store, tmp_path)
    cuts = _train_ends(data)
    assert len(cuts) == 3
    for train, (prefix, head) in enumerate(cuts, start=1):
        update_session_progress(store, "live-1", pulses_delivered=10 * train, chain_head=head)
        # the file holds more than this train (the next one has begun): cut at the head
        assert copy_prefix(store, "live-1", path, head) == "stored"
        assert stored_prefix(store, "live-1") == prefix
        assert verify_bytes(prefix, expected_head=head).ok
    assert copy_prefix(store, "live-1", path, cuts[-1][1]) == "already"
    path.unlink()  # another console: the store's prefix stands in for the file
    copy = journal_file(store, get_session(store, "live-1"))
    assert copy is not None and copy.read_bytes() == cuts[-1][0]


def test_a_forged_or_backward_prefix_is_refused_and_the_stored_one_stays(
    store: Store, subject: str, tmp_path: Path
) -> None:
    _, data = _running(store, tmp_path)
    (first, head1), (second, head2), _ = _train_ends(data)
    update_session_progress(store, "live-1", pulses_delivered=10, chain_head=head1)
    assert store_prefix(store, "live-1", first, head1) == "stored"
    forged = first.replace(b'"pulses":10', b'"pulses":11', 1)
    assert forged != first
    with pytest.raises(JournalTampered, match="refused"):
        store_prefix(store, "live-1", forged, line_hash(forged.splitlines()[-1]))
    with pytest.raises(JournalTampered, match="does not end at chain head"):
        store_prefix(store, "live-1", second, head1)  # bytes after the claimed head
    with pytest.raises(JournalTampered, match="chain head on the session's row"):
        store_prefix(store, "live-1", second, head2)  # not what the console reported
    update_session_progress(store, "live-1", pulses_delivered=20, chain_head=head2)
    assert store_prefix(store, "live-1", second, head2) == "stored"
    # a fork: another journal under the same id, as long, from another start time
    other, _, _ = write_journal(
        tmp_path / "other", "live-1", start=NOW.replace(hour=10), trains=THREE_TRAINS, status=None
    )
    fork, fork_head = _train_ends(other.read_bytes())[2]
    update_session_progress(store, "live-1", pulses_delivered=30, chain_head=fork_head)
    with pytest.raises(JournalTampered, match="does not extend the prefix stored before it"):
        store_prefix(store, "live-1", fork, fork_head)
    assert stored_prefix(store, "live-1") == second


def test_the_whole_journal_must_extend_the_stored_prefix_and_replaces_it(
    store: Store, subject: str, tmp_path: Path
) -> None:
    path, data = _running(store, tmp_path)
    prefix, head = _train_ends(data)[1]
    update_session_progress(store, "live-1", pulses_delivered=20, chain_head=head)
    assert store_prefix(store, "live-1", prefix, head) == "stored"
    # the console rewrites its journal after the train went to the store
    rewritten, end_head, pulses = write_journal(
        tmp_path / "rewritten", "live-1", start=NOW.replace(hour=10), trains=THREE_TRAINS
    )
    end_session(
        store,
        "live-1",
        status="completed",
        pulses_delivered=pulses,
        chain_head=end_head,
        ended_at=NOW.replace(hour=11),
    )
    path.write_bytes(rewritten.read_bytes())
    with pytest.raises(JournalTampered, match="does not extend the copy stored"):
        upload_journal(store, "live-1")
    assert stored_journal(store, "live-1") is None and stored_prefix(store, "live-1") == prefix


def test_an_ended_upload_drops_the_prefix(store: Store, subject: str, tmp_path: Path) -> None:
    _, data = _running(store, tmp_path, status="completed")
    prefix, head = _train_ends(data)[2]
    update_session_progress(store, "live-1", pulses_delivered=30, chain_head=head)
    assert store_prefix(store, "live-1", prefix, head) == "stored"
    end_session(
        store,
        "live-1",
        status="completed",
        pulses_delivered=30,
        chain_head=line_hash(data.splitlines()[-1]),
        ended_at=NOW.replace(hour=11),
    )
    assert upload_journal(store, "live-1") == "uploaded"
    whole = stored_journal(store, "live-1")
    assert whole == data and whole.startswith(prefix)
    assert stored_prefix(store, "live-1") is None
    assert store_prefix(store, "live-1", prefix, head) == "uploaded"  # a late copy: ignored


# --- during a session (SQLite) -------------------------------------------------------------


def test_a_recorded_dry_run_stores_its_journal_after_each_train(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mocker: MockerFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    enroll(home)
    init_signing_key(home)  # train_end then comes with a signed checkpoint
    protocol = tmp_path / "trains.toml"
    protocol.write_text(PROTOCOL.format(name="t", pct=100, pattern=TRAINS.format(trains=3)))
    seen: list[tuple[str, bytes | None]] = []

    def copy_and_read(store: Store, session_id: str, journal: Path, head: str) -> Any:
        done = copy_prefix(store, session_id, journal, head)  # the real copy, then a look
        seen.append((head, stored_prefix(store, session_id)))
        return done

    mocker.patch.object(records_link, "copy_prefix", side_effect=copy_and_read)
    assert main(["dry-run", str(protocol), "--subject", "S-01", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    final = Path(summary["journal"]).read_bytes()
    assert len(seen) == 3  # one prefix per train
    for head, prefix in seen:
        assert prefix is not None and final.startswith(prefix)
        assert verify_bytes(prefix, expected_head=head).ok
        last = json.loads(prefix.splitlines()[-1])
        assert last["event"] == "checkpoint" and line_hash(prefix.splitlines()[-1]) == head
    assert [len(p or b"") for _, p in seen] == sorted({len(p or b"") for _, p in seen})
    [row] = sessions_of(home)
    with Store.open(home / "stimctl.db") as store:
        assert stored_journal(store, row.id) == final  # the whole journal, as before
        assert stored_prefix(store, row.id) is None


def test_a_locked_store_neither_slows_the_trains_nor_loses_the_final_upload(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    from stimctl.records import add_subject

    mocker.patch.object(records_link, "PROGRESS_BUSY_TIMEOUT_S", 0.5)
    run = start(write_engine_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path, begin=False)
    journal = run.engine.journal
    with Store.open() as store:
        add_subject(store, "S-01")
        begin_session(
            store,
            session_id=journal.session_id,
            subject_id="S-01",
            protocol_name="t",
            protocol_digest=DIGEST,
            pulses_planned=60,
            started_at=NOW,
            journal_path=journal.path,
        )
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCK, str(default_db_path())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        recorder = SessionRecorder("S-01", journal.session_id, journal_path=str(journal.path))
        recorder.attach(run.engine)
        hand_off = run.engine.on_progress
        assert hand_off is not None
        took: list[float] = []

        def timed(pulses: int, head: str) -> None:
            began = time.perf_counter()
            hand_off(pulses, head)
            took.append(time.perf_counter() - began)

        run.engine.on_progress = timed
        run.engine.start()
        summary = run.finish()
        assert summary.status == "completed" and len(took) == 3
        assert max(took) < 0.1, took  # handed to the writer, not written on the engine thread
        recorder.flush(timeout_s=15)
        assert recorder.warnings  # the operator is told; the local journal waits
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=10)
    recorder.end(summary, journal.head)  # the store is back
    with Store.open() as store:
        assert stored_prefix(store, journal.session_id) is None  # no train got through
        assert upload_journal(store, journal.session_id) == "uploaded"
        assert stored_journal(store, journal.session_id) == journal.path.read_bytes()


def test_another_console_gets_a_running_session_up_to_its_last_train(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.records import ThresholdRecord, add_subject, record_threshold

    with Store.open() as store:
        add_subject(store, "S-01")
        record_threshold(store, ThresholdRecord("S-01", 50.0, "emg", NOW.date()))
        path, data = _running(store, tmp_path)
        prefix, head = _train_ends(data)[1]
        update_session_progress(store, "live-1", pulses_delivered=20, chain_head=head)
        assert copy_prefix(store, "live-1", path, head) == "stored"
    local = main(["report", "live-1", "--format", "json", "-o", "-"])
    here = json.loads(capsys.readouterr().out)
    path.unlink()  # not on this console
    assert main(["records", "journal", "live-1"]) == 0
    captured = capsys.readouterr()
    assert Path(captured.out.strip()).read_bytes() == prefix
    assert "up to its last train only" in captured.err
    # the report from the store judges it as the console's own (unfinished) file, up to
    # the train the store has
    assert main(["report", "live-1", "--format", "json", "-o", "-"]) == local
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "tampered" not in captured.err
    assert len(report["trains"]) == 2 and len(here["trains"]) == 3
