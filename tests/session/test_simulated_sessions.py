"""A dry run with --subject is recorded, journaled, reported and exported as simulated,
and never counts as treatment (issue 12 item 5)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.journal import read
from stimctl.protocol import load_protocol
from stimctl.records import CourseRecord, Store, evaluate_for_subject, history_for, start_course
from tests.session.records_helpers import enroll, sessions_of, write_protocol


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    enroll(tmp_path / "home")
    return tmp_path / "home"


def test_a_dry_run_is_simulated_everywhere_and_never_treatment(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_protocol(tmp_path, pulses=3)
    with Store.open(home / "stimctl.db") as store:
        start_course(
            store,
            CourseRecord("S-01", "slow", "d" * 64, planned_sessions=1, start_date=dt.date.today()),
        )
    code, out, err = run(capsys, "dry-run", str(protocol), "--subject", "S-01", "--json")
    assert code == 0, err
    summary = json.loads(out)

    # the store
    [row] = sessions_of(home)
    assert row.simulated and row.status == "completed" and row.pulses_delivered == 3
    # the journal
    start = read(summary["journal"])[0]
    assert start["event"] == "session_start" and start["payload"]["simulated"] is True
    # the report, in every format
    for fmt in ("json", "tsv", "html"):
        code, text, _ = run(capsys, "report", summary["journal"], "--format", fmt, "-o", "-")
        assert code == 0
        if fmt == "json":
            assert json.loads(text)["simulated"] is True
        elif fmt == "tsv":
            # the first line is the journal's verdict, a comment; then the table
            journal_line, header, first, *_ = text.splitlines()
            assert journal_line.startswith("# journal:")
            assert dict(zip(header.split("\t"), first.split("\t"), strict=True))["simulated"] == (
                "true"
            )
        else:
            assert "SIMULATED" in text
    # the exports
    out_dir = tmp_path / "export"
    for fmt in ("csv", "json", "bids"):
        assert run(capsys, "export", "S-01", "--format", fmt, "-o", str(out_dir))[0] == 0
    with (out_dir / "S-01_trains.csv").open() as handle:
        assert {r["simulated"] for r in csv.DictReader(handle)} == {"True"}
    course = json.loads((out_dir / "S-01_course.json").read_text())
    assert course["sessions"][0]["simulated"] is True
    [tsv] = out_dir.glob("sub-*/ses-*/nibs/*_nibs.tsv")
    header, first, *_ = tsv.read_text().splitlines()
    assert dict(zip(header.split("\t"), first.split("\t"), strict=True))["simulated"] == "true"
    # `sessions list`, `subject show`
    assert "[simulated]" in run(capsys, "sessions", "list")[1]
    shown = run(capsys, "subject", "show", "S-01")[1]
    assert (
        "0 of 1 sessions delivered" in shown and "sessions on record: 0 (and 1 simulated)" in shown
    )

    # never counted: no session today, none of the course, no pulses
    now = dt.datetime.now(dt.UTC)
    with Store.open(home / "stimctl.db") as store:
        history = history_for(store, "S-01", now)
        assert history.sessions == () and history.course_sessions == 0
        verdict = evaluate_for_subject(store, load_protocol(str(protocol)), "S-01", now=now)
    rules = {f.rule for f in verdict.deciding()}
    assert verdict.verdict.value == "allow" and "SES-1" not in rules
