"""A hunt that fires through a stimulator is journaled pulse by pulse (ARCHITECTURE 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.journal import read, verify


def test_device_hunt_journal_matches_the_pulses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    code = main(
        [
            "rmt",
            "hunt",
            "S1",
            "--method",
            "ml-pest",
            "--device",
            "magpro-x100",
            "--virtual-rmt",
            "52",
            "--seed",
            "1",
            "--speed",
            "max",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    journals = list((tmp_path / "journals").glob("rmt-*.jsonl"))
    assert len(journals) == 1
    assert verify(journals[0]).ok
    records = read(journals[0])
    pulses = [r["payload"] for r in records if r["event"] == "pulse"]
    assert [p["intensity"] for p in pulses] == [t["intensity"] for t in out["trace"]]
    assert records[0]["payload"]["kind"] == "threshold-hunt"
    assert records[-2]["payload"] == {"status": "completed", "pulses_delivered": out["pulses"]}
    seal = records[-1]  # hunts are sealed like sessions
    assert seal["event"] == "seal" and seal["payload"]["pulses"] == out["pulses"]
    threshold = next(r["payload"] for r in records if r["event"] == "threshold")
    assert threshold["rmt"] == out["rmt"]


def test_a_paper_hunt_writes_no_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    code = main(
        [
            "rmt",
            "hunt",
            "S1",
            "--method",
            "ml-pest",
            "--virtual-rmt",
            "52",
            "--seed",
            "1",
            "--speed",
            "max",
            "--json",
        ]
    )
    capsys.readouterr()
    assert code == 0
    assert not (tmp_path / "journals").exists() or not list((tmp_path / "journals").iterdir())
