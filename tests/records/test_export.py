"""Exports: one row per train from the journals, in % MSO and % RMT, with provenance."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from stimctl.errors import RecordsError
from stimctl.records import Store, begin_session, end_session
from stimctl.records.bids import NIBS_BIDS_DRAFT, bids_label, export_bids
from stimctl.records.export import export_csv, export_json
from tests.records.conftest import DIGEST, NOW, write_journal


@pytest.fixture
def course(store: Store, subject: str, tmp_path: Path) -> Store:
    """Two sessions of S-01, each two trains of 10 pulses at 45% MSO (90% of RMT 50)."""
    for number, sid in enumerate(("sess-a", "sess-b")):
        start = NOW + dt.timedelta(days=number)
        path, head, pulses = write_journal(tmp_path / "journals", sid, start=start)
        begin_session(
            store,
            session_id=sid,
            subject_id=subject,
            protocol_name="dep-fda-10hz",
            protocol_digest=DIGEST,
            pulses_planned=pulses,
            started_at=start,
            journal_path=path,
            device="magstim-rapid2-super-240v",
            coil="D70",
        )
        end_session(
            store, sid, status="completed", pulses_delivered=pulses, chain_head=head, ended_at=start
        )
    return store


def test_csv_has_one_row_per_train_in_mso_and_rmt_with_provenance(
    course: Store, tmp_path: Path
) -> None:
    path = export_csv(course, "S-01", tmp_path / "out")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 4
    first = rows[0]
    assert (first["session_id"], first["train"], first["pulses"]) == ("sess-a", "0", "10")
    assert float(first["intensity_pct_mso"]) == 45.0
    assert float(first["intensity_pct_rmt"]) == 90.0
    assert (first["rmt_pct_mso"], first["rmt_method"]) == ("50.0", "emg")
    assert (first["rmt_criterion"], first["rmt_algorithm"]) == ("50 uV in 5 of 10", "5/10")
    assert (first["device"], first["coil"]) == ("magstim-rapid2-super-240v", "D70")
    assert first["started_at"].startswith("2026-11-24T09:00:00")
    assert float(first["duration_s"]) == pytest.approx(1.0)
    assert [r["session_number"] for r in rows] == ["1", "1", "2", "2"]


def test_json_holds_sessions_with_trains_and_chain_heads(course: Store, tmp_path: Path) -> None:
    document = json.loads(export_json(course, "S-01", tmp_path / "out").read_text())
    assert [s["id"] for s in document["sessions"]] == ["sess-a", "sess-b"]
    assert len(document["sessions"][0]["trains"]) == 2
    assert len(document["sessions"][0]["chain_head"]) == 64
    assert document["thresholds"][0]["percent_mso"] == 50.0


def test_bids_export_follows_the_draft_layout_and_says_which_draft(
    course: Store, tmp_path: Path
) -> None:
    out = tmp_path / "bids"
    export_bids(course, "S-01", out)
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["NIBSBIDSDraftVersion"] == NIBS_BIDS_DRAFT
    assert "DRAFT" in description["GeneratedBy"][0]["Description"]
    folder = out / "sub-S01" / "ses-1" / "nibs"
    tsv = (folder / "sub-S01_ses-1_nibs.tsv").read_text().splitlines()
    header = tsv[0].split("\t")
    row = dict(zip(header, tsv[1].split("\t"), strict=True))
    assert len(tsv) == 2  # both trains share one parameter set (v6.3)
    assert row["event_id"] == "set-1"
    assert row["stimulus_intensity"] == "45.0"
    assert row["threshold_intensity"] == "90.0"
    assert row["threshold_reference_intensity"] == "50.0"
    assert row["threshold_measurement_method"] == "emg"
    assert (row["threshold_criterion"], row["threshold_algorithm"]) == ("50 uV in 5 of 10", "5/10")
    sidecar = json.loads((folder / "sub-S01_ses-1_nibs.json").read_text())
    assert sidecar["NIBSBIDSDraftVersion"] == NIBS_BIDS_DRAFT
    assert sidecar["ElementSet"][0]["ElementType"] == "D70"
    assert set(header) <= set(sidecar)  # every column described
    events = (folder / "sub-S01_ses-1_events.tsv").read_text().splitlines()
    assert events[0].split("\t")[:3] == ["onset", "duration", "event_id"]
    assert [line.split("\t")[2] for line in events[1:]] == ["set-1", "set-1"]
    assert [line.split("\t")[5] for line in events[1:]] == ["complete", "complete"]
    onsets = [float(line.split("\t")[0]) for line in events[1:]]
    assert onsets == pytest.approx([0.0, 27.0])  # 10 pulses at 10 Hz + 26 s pause
    assert (out / "sub-S01" / "ses-2" / "nibs" / "sub-S01_ses-2_nibs.tsv").is_file()


def test_bids_labels_drop_separators() -> None:
    assert bids_label("S-01_a.b") == "S01ab"


def test_an_export_refuses_a_rewritten_journal(course: Store, tmp_path: Path) -> None:
    journal = tmp_path / "journals" / "sess-b.jsonl"
    lines = journal.read_bytes().splitlines()
    journal.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # drop the closing record
    with pytest.raises(RecordsError, match="tampered"):
        export_csv(course, "S-01", tmp_path / "out")


def test_an_export_refuses_a_missing_journal(course: Store, tmp_path: Path) -> None:
    (tmp_path / "journals" / "sess-a.jsonl").unlink()
    with pytest.raises(RecordsError, match="sess-a"):
        export_json(course, "S-01", tmp_path / "out")


def test_bids_exports_of_two_subjects_share_participants_tsv(course: Store, tmp_path: Path) -> None:
    from stimctl.records import add_subject

    add_subject(course, "S-02")
    out = tmp_path / "bids"
    export_bids(course, "S-01", out)
    export_bids(course, "S-02", out)
    export_bids(course, "S-01", out)
    lines = (out / "participants.tsv").read_text().splitlines()
    assert lines == ["participant_id\tstimctl_subject_id", "sub-S01\tS-01", "sub-S02\tS-02"]
