"""Session reports: HTML, JSON and TSV from the journal; determinism; tampering."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import verify
from stimctl.report import load_session, render, write_report
from stimctl.report.content import TSV_COLUMNS
from stimctl.report.html import GENERATED_PREFIX
from stimctl.session.simulation import FaultAt
from tests.report.journals import MINIMAL_START, hand_made, real_session

T1 = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_session(tmp_path_factory.mktemp("session"))


@pytest.fixture(scope="module")
def faulted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_session(tmp_path_factory.mktemp("fault"), faults=[FaultAt("link-loss", 10.0)])


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def differing_lines(a: str, b: str) -> list[tuple[str, str]]:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    assert len(lines_a) == len(lines_b)
    return [(x, y) for x, y in zip(lines_a, lines_b, strict=True) if x != y]


def test_the_same_journal_gives_the_same_html_but_for_the_generation_line(journal: Path) -> None:
    data = load_session(journal)
    first = render(data, "html", generated=T1)
    second = render(load_session(journal), "html", generated=T2)
    diff = differing_lines(first, second)
    assert len(diff) == 1
    assert all(GENERATED_PREFIX in side for side in diff[0])
    assert "<svg" in first  # the plots are inline
    assert re.search(r'(src|href)="(https?:)?//', first) is None  # self-contained


def test_html_is_identical_across_processes(journal: Path, tmp_path: Path) -> None:
    """Two separate runs of `stimctl report` (fresh matplotlib each time)."""
    outputs = []
    for name in ("a.html", "b.html"):
        target = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "stimctl", "report", str(journal), "-o", str(target)],
            check=True,
            capture_output=True,
        )
        outputs.append(target.read_text())
    diff = differing_lines(*outputs)
    assert len(diff) <= 1  # the generation line, when the second changed in between
    assert all(GENERATED_PREFIX in side for line in diff for side in line)


def test_an_intact_journal_shows_its_chain_head_and_no_tamper_banner(journal: Path) -> None:
    html = render(load_session(journal), "html", generated=T1)
    assert "JOURNAL TAMPERED" not in html
    assert "Journal verified (unsigned)" in html
    assert "JOURNAL UNSIGNED" in html  # the fixture home has no signing key
    assert verify(journal).head in html


def test_a_tampered_journal_is_reported_as_tampered(journal: Path, tmp_path: Path) -> None:
    lines = journal.read_text().splitlines(keepends=True)
    edited = next(i for i, line in enumerate(lines) if '"event":"train_end"' in line)
    lines[edited] = lines[edited].replace('"pulses":20', '"pulses":25')
    copy = tmp_path / "tampered.jsonl"
    copy.write_text("".join(lines))
    html = render(load_session(copy), "html", generated=T1)
    assert "JOURNAL TAMPERED" in html
    assert f"line {edited + 1}" in html
    data = json.loads(render(load_session(copy), "json"))
    assert data["journal"]["tampered"] is True
    assert data["journal"]["first_bad_line"] == edited + 1


def test_the_cli_warns_and_fails_on_a_tampered_journal(
    journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "tampered.jsonl"
    copy.write_text(journal.read_text().replace('"pulses_planned":20', '"pulses_planned":2', 1))
    assert main(["report", str(copy), "-o", str(tmp_path / "r.html")]) == ExitCode.TAMPERED
    assert "journal tampered" in capsys.readouterr().err
    assert "JOURNAL TAMPERED" in (tmp_path / "r.html").read_text()


def test_tsv_has_one_row_per_train(journal: Path) -> None:
    text = render(load_session(journal), "tsv")
    verdict, header, *rows = text.splitlines()
    assert verdict.startswith("# journal: unsigned: intact but UNSIGNED")
    assert header.split("\t") == list(TSV_COLUMNS)
    starts = [r for r in records(journal) if r["event"] == "train_start"]
    assert len(rows) == len(starts) == 4
    first = dict(zip(TSV_COLUMNS, rows[0].split("\t"), strict=True))
    assert first["train"] == "1"
    assert first["pulses"] == first["pulses_planned"] == "20"
    assert first["intensity_percent_mso"] == "45"


def test_json_holds_what_the_html_shows(journal: Path) -> None:
    data = json.loads(render(load_session(journal), "json"))
    assert data["outcome"]["status"] == "completed"
    assert data["subject"]["id"] == "S-001"
    assert data["protocol"]["name"] == "console-test-10hz"
    assert data["protocol"]["digest"]
    assert data["verdict"]["verdict"] == "allow"
    assert len(data["verdict"]["findings"]) >= 5
    assert all(f["source"] for f in data["verdict"]["findings"])
    assert len(data["trains"]) == data["trains_planned"] == 4
    assert [t["onset_s"] for t in data["planned_schedule"]] == [0.0, 7.0, 14.0, 21.0]
    assert data["intensity"][0]["percent_mso"] == 45
    assert data["journal"]["chain_head"] == verify(journal).head
    html = render(load_session(journal), "html", generated=T1)
    for finding in data["verdict"]["findings"]:
        assert finding["rule"] in html


def test_alarms_of_a_faulted_session_are_listed_with_their_priority(faulted: Path) -> None:
    data = json.loads(render(load_session(faulted), "json"))
    assert data["outcome"]["status"] == "fault"
    # the link loss, then the disarm nobody could confirm over the pulled cable (issue 12)
    assert [(a["detail"]["code"], a["kind"]) for a in data["alarms"]] == [
        ("DEV-3", "high"),
        ("DISARM", "high"),
    ]
    html = render(load_session(faulted), "html", generated=T1)
    assert 'class="pri-high nowrap">*** high' in html
    assert "status-fault" in html


def test_journal_values_are_escaped(tmp_path: Path) -> None:
    path = hand_made(
        tmp_path,
        [
            ("session_start", "engine", MINIMAL_START),
            (
                "operator",
                "operator:nurse",
                {
                    "command": "adverse_event",
                    "kind": "headache",
                    "severity": "mild",
                    "notes": "<img src=x onerror=alert(1)>",
                },
            ),
            ("operator", "operator:nurse", {"command": "annotate", "text": "</td><script>"}),
        ],
    )
    html = render(load_session(path), "html", generated=T1)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Hand-made &lt;b&gt;bold&lt;/b&gt; title" in html


def test_adverse_events_and_annotations_have_their_own_rows(tmp_path: Path) -> None:
    path = hand_made(
        tmp_path,
        [
            ("session_start", "engine", MINIMAL_START),
            ("operator", "operator:nurse", {"command": "annotate", "text": "tingling"}),
            (
                "operator",
                "operator:nurse",
                {
                    "command": "adverse_event",
                    "kind": "syncope",
                    "severity": "moderate",
                    "notes": "fainted",
                },
            ),
        ],
    )
    data = json.loads(render(load_session(path), "json"))
    assert [a["detail"]["kind"] for a in data["adverse_events"]] == ["syncope"]
    assert [a["kind"] for a in data["operator_actions"]] == ["annotate", "adverse_event"]
    html = render(load_session(path), "html", generated=T1)
    assert "UNFINISHED" in html  # no session_end: the journal is still open


def test_coil_temperature_comes_from_device_records_when_there_are_any(tmp_path: Path) -> None:
    path = hand_made(
        tmp_path,
        [
            ("session_start", "engine", MINIMAL_START),
            ("device", "device", {"coil_temperature_c": 31.5}),
            ("device", "device", {"coil_temperature_c": 32.0}),
        ],
    )
    data = json.loads(render(load_session(path), "json"))
    assert [s["celsius"] for s in data["coil_temperature"]["samples"]] == [31.5, 32.0]
    assert "holds no coil temperature samples" not in render(load_session(path), "html")


def test_write_report_defaults_to_the_reports_folder(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    path = write_report(journal, "tsv")
    assert path == tmp_path / "reports" / f"{journal.stem}.tsv"
    assert path.read_text().count("\n") == 6  # verdict, header, 4 trains


def test_the_cli_finds_a_session_by_its_id(
    journal: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    (home / "journals").mkdir(parents=True)
    (home / "journals" / journal.name).write_bytes(journal.read_bytes())
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    assert main(["report", journal.stem, "--format", "json"]) == 0
    written = Path(capsys.readouterr().out.strip())
    assert written == home / "reports" / f"{journal.stem}.json"
    assert json.loads(written.read_text())["session_id"] == journal.stem


def test_an_unknown_session_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    assert main(["report", "no-such-session"]) == 2
    assert "no journal" in capsys.readouterr().err
