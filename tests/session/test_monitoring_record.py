"""A research session outside the tables needs a monitoring record: who monitors and how
(EMG/EEG), journaled with the session start and shown in the report (safety-limits 13.4
item 4; issue 15 item 9)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import read, verify
from stimctl.records import Store
from stimctl.report import render
from stimctl.report.model import load_session
from tests.identity.people import SECRETS, register

# 10 s trains at 10 Hz: beyond the '>5 s' tested duration (an override, outside the table)
OUTSIDE = str(Path(__file__).resolve().parents[1] / "data" / "pain-10hz-10s-trains.toml")
# an override is signed by a registered physician (issue 13): her password on stdin
SIGNED = (
    "--override-operator", "dr-lee", "--override-reason", "study protocol 2026-17",
    "--override-password-stdin",
)  # fmt: skip
# research sessions run only where the site file allows them (issue 12 item 4)
RESEARCH_SITE = str(Path(__file__).resolve().parents[2] / "configs" / "site" / "research.toml")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    with Store.open() as store:
        register(store, "dr-lee")
    return tmp_path / "home"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    if "--mode" in args:
        args = (*args, "--site", RESEARCH_SITE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_outside_the_tables_without_monitoring_is_refused_before_any_pulse(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "dry-run", OUTSIDE, "--rmt", "50", "--mode", "research", *SIGNED)
    assert code == ExitCode.OVERRIDE_REQUIRED
    assert "monitoring record" in err and "--monitor-operator" in err and "WASS1998_T4" in err
    assert "Traceback" not in err and out == ""
    assert not list((home / "journals").glob("*.jsonl")) if (home / "journals").exists() else True


def test_the_monitoring_record_is_journaled_and_reported(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "dry-run", OUTSIDE, "--rmt", "50", "--mode", "research", *SIGNED,
        "--monitor-operator", "dr-kim", "--monitor-method", "emg", "--monitor-method", "eeg",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    journal = Path(json.loads(out)["journal"])
    assert verify(journal).ok
    start = next(r for r in read(journal) if r["event"] == "session_start")
    monitoring = start["payload"]["monitoring"]
    assert monitoring["operator"] == "operator:dr-kim"
    assert monitoring["methods"] == ["emg", "eeg"]
    assert "WASS1998_T4" in monitoring["because"]
    html = render(load_session(journal), "html")
    assert "Monitoring" in html and "EMG, EEG" in html and "dr-kim" in html


def test_a_session_within_the_tables_needs_no_monitoring(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "dry-run", "np-m1-10hz-90", "--rmt", "50", "--mode", "research", "--json"
    )
    assert code == 0
    start = next(r for r in read(Path(json.loads(out)["journal"])) if r["event"] == "session_start")
    assert "monitoring" not in start["payload"]


def test_clinical_mode_does_not_ask_for_monitoring(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "dry-run", OUTSIDE, "--rmt", "50", *SIGNED, "--json")
    assert code == 0, err
