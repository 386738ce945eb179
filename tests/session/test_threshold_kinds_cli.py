"""Sessions dose from the threshold their protocol names (issue 15 item 1): a cTBS
protocol in % AMT runs on an AMT and is refused, naming what to measure, without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import read


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_an_amt_protocol_without_an_amt_is_refused_naming_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dry-run", "ctbs-m1", "--rmt", "55", "--device", "magpro-x100"])
    err = capsys.readouterr().err
    assert code == ExitCode.BLOCKED
    assert "MT-NEED" in err and "active motor threshold (AMT)" in err and "--type amt" in err


def test_an_amt_protocol_doses_from_the_amt(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dry-run", "ctbs-m1", "--rmt", "55", "--amt", "44", "--device", "magpro-x100"]
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "completed" and summary["pulses_delivered"] == 600
    start = next(r for r in read(Path(summary["journal"])) if r["event"] == "session_start")
    subject = start["payload"]["subject"]
    assert (subject["threshold_kind"], subject["rmt_percent_mso"]) == ("amt", 44.0)
    # 80% of the 44% MSO AMT = 35.2% MSO, rounded down to the device's 1% step
    assert start["payload"]["plan"]["max_intensity_percent_mso"] == 35
