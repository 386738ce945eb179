"""The BIDS export follows NIBS-BIDS draft v6.3 (issue 16 item 8): one `_nibs.tsv` row
per parameter set keyed by `event_id`, one `_events.tsv` row per delivery, units in the
sidecar, the threshold fields, every known value filled, simulated sessions flagged and
onsets identical to the report's. Checked on real dry runs recorded for a subject."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.records import Store, ThresholdRecord, record_threshold
from stimctl.records.bids import NIBS_BIDS_DRAFT
from tests.session.records_helpers import enroll

V63_NIBS_FIELDS = {
    # shared/reference/ecosystem.md 10.4 "NIBS-BIDS v6.3 (BEP037)"
    "event_id",
    "nibs_type",
    "stimulus_shape",
    "stimulus_intensity",
    "stimulus_duration",
    "pattern1_count",
    "pattern1_interval",
    "pattern1_frequency",
    "pattern1_duration",
    "pattern1_intensity",
    "threshold_type",
    "threshold_reference_intensity",
    "threshold_intensity",
    "threshold_criterion",
    "threshold_algorithm",
    "element_id",
    "stimulator_id",
}
V63_EVENTS_FIELDS = ["onset", "duration", "event_id"]
UNKNOWN_TO_STIMCTL = {"stimulus_shape", "stimulus_duration"}  # not journaled
V62_ONLY = {"base_pulse_intensity", "threshold_pulse_intensity", "train_frequency", "coil_id"}

ITBS = """schema_version = 1
name = "my-itbs"
title = "iTBS"
indication = "depression"
source = "Blumberger et al. 2018"
[target]
site = "L-DLPFC"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = 120
[pattern]
kind = "theta-burst"
pulses_per_burst = 3
burst_frequency_hz = 50.0
burst_rate_hz = 5.0
train_duration_s = 2.0
inter_train_interval_s = 8.0
trains = 20
"""


def tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str, device: str
) -> tuple[Path, str]:
    enroll(tmp_path / "home", rmt=49.0)
    today = dt.datetime.now(dt.UTC).date()
    with Store.open(tmp_path / "home" / "stimctl.db") as store:  # how it was found, too
        record_threshold(
            store,
            ThresholdRecord("S-01", 50.0, "emg", today, criterion="50 uV in 5 of 10",
                            algorithm="5/10"),
        )  # fmt: skip
    code = main(["dry-run", protocol, "--subject", "S-01", "--device", device, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    session_id = json.loads(out)["session_id"]
    assert main(["export", "S-01", "--format", "bids", "-o", str(tmp_path / "bids")]) == 0
    capsys.readouterr()
    return tmp_path / "bids" / "sub-S01" / "ses-1" / "nibs", session_id


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_train_session_is_one_parameter_set_and_one_event_per_train(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, session_id = export(tmp_path, capsys, "np-m1-10hz-90", "magpro-x100")
    [row] = tsv(folder / "sub-S01_ses-1_nibs.tsv")  # 40 equal trains: one set
    assert set(row) >= V63_NIBS_FIELDS and not V62_ONLY & set(row)
    known = {k: v for k, v in row.items() if k not in UNKNOWN_TO_STIMCTL and "pattern2" not in k}
    assert NA not in known.values(), known  # pattern2: theta burst only (below)
    assert {row[f"pattern2_{p}"] for p in ("count", "interval", "frequency")} == {NA}
    assert row["event_id"] == "set-1" and row["nibs_type"] == "TMS"
    assert float(row["stimulus_intensity"]) == 45.0  # 90% of RMT 50, whole % MSO
    assert float(row["pattern1_intensity"]) == 45.0
    assert (row["pattern1_count"], float(row["pattern1_frequency"])) == ("50", 10.0)
    assert float(row["pattern1_interval"]) == pytest.approx(0.1)
    assert float(row["pattern1_duration"]) == pytest.approx(5.0)
    assert row["threshold_type"] == "resting motor threshold"
    assert float(row["threshold_reference_intensity"]) == 50.0
    assert float(row["threshold_intensity"]) == pytest.approx(90.0)
    assert (row["threshold_criterion"], row["threshold_algorithm"]) == ("50 uV in 5 of 10", "5/10")
    assert row["stimctl_trains"] == "40" and row["simulated"] == "true"

    events = tsv(folder / "sub-S01_ses-1_events.tsv")
    assert list(events[0])[:3] == V63_EVENTS_FIELDS
    assert len(events) == 40 and {e["event_id"] for e in events} == {"set-1"}
    # onsets identical to the report's (the engine's actual_onset_s)
    assert main(["report", session_id, "--format", "json", "-o", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [float(e["onset"]) for e in events] == [t["actual_onset_s"] for t in report["trains"]]
    assert float(events[1]["onset"]) == pytest.approx(30.0)  # simulated time, not wall clock

    sidecar = json.loads((folder / "sub-S01_ses-1_nibs.json").read_text())
    assert sidecar["NIBSBIDSDraftVersion"] == NIBS_BIDS_DRAFT and "v6.3" in NIBS_BIDS_DRAFT
    assert set(row) <= set(sidecar)  # every column described
    units = {k: sidecar[k].get("Units") for k in row}
    assert units["stimulus_intensity"] == "%MSO" and units["pattern1_frequency"] == "Hz"
    assert units["pattern1_interval"] == "s" and units["threshold_intensity"] == "%"
    assert sidecar["StimctlSimulated"] is True and "simulator" in sidecar["StimctlSimulatedNote"]
    [stimulator] = sidecar["StimulatorSet"]
    assert stimulator["stimulator_id"] == "stimulator_1"
    assert stimulator["Manufacturer"] == "MagVenture"
    assert stimulator["ManufacturersModelName"] != "magpro-x100"  # the unit's, not a profile
    assert stimulator["StimctlDeviceProfile"] == "magpro-x100"
    assert sidecar["ElementSet"][0]["element_id"] == "coil_1"
    assert sidecar["Delimiter"] == "|"


def test_theta_burst_nests_bursts_in_pattern2(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = tmp_path / "itbs.toml"
    protocol.write_text(ITBS)
    folder, _ = export(tmp_path, capsys, str(protocol), "magpro-x100")
    [row] = tsv(folder / "sub-S01_ses-1_nibs.tsv")
    assert (row["pattern1_count"], float(row["pattern1_frequency"])) == ("3", 50.0)
    assert float(row["pattern1_duration"]) == pytest.approx(0.06)
    assert (row["pattern2_count"], float(row["pattern2_frequency"])) == ("10", 5.0)
    assert float(row["pattern2_interval"]) == pytest.approx(0.2)
    assert float(row["pattern2_duration"]) == pytest.approx(2.0)
    assert float(row["threshold_intensity"]) == pytest.approx(120.0)
    assert len(tsv(folder / "sub-S01_ses-1_events.tsv")) == 20


NA = "n/a"
