"""`rmt paired` and `rmt hotspot` store their results like `rmt curve` (issue 19), and
`rmt results SUBJECT` lists every stored curve, paired-pulse result and hotspot search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.errors import ConfigError, ExitCode
from stimctl.records import Store, add_subject
from stimctl.rmt.curve_store import list_curves
from stimctl.rmt.results_store import list_hotspots, list_paired
from tests.rmt.helpers import ConstantSubject


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    code = rmt_group.main(args=list(args), prog_name="rmt", standalone_mode=False)
    assert code == ExitCode.OK
    return capsys.readouterr().out


def amplitudes(tmp_path: Path, values: list[float]) -> str:
    path = tmp_path / "amps.txt"
    path.write_text("\n".join(str(v) for v in values) + "\n")
    return str(path)


def test_a_replayed_paired_result_is_stored_with_store_and_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open() as store:
        add_subject(store, "S07")
    replay = amplitudes(tmp_path, [300.0 + 10 * i for i in range(8)])
    out = run(capsys, "paired", "S07", "--paradigm", "sici", "--rmt", "50", "--trials", "4",
              "--amplitudes", replay, "--speed", "max", "--store", "--json")  # fmt: skip
    data = json.loads(out)
    with Store.open() as store:
        (stored,) = list_paired(store, "S07")
    assert stored.id == data["stored"] and stored.source == "replay" and stored.journal is None
    assert stored.ratio == pytest.approx(data["ratio"], abs=1e-4) and stored.trials == 8
    listed = json.loads(run(capsys, "results", "S07", "--json"))
    assert [p["id"] for p in listed["paired"]] == [stored.id]
    assert listed["curves"] == [] and listed["hotspots"] == []


def test_a_replay_is_not_stored_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replay = amplitudes(tmp_path, [100.0] * 4)
    out = run(capsys, "hotspot", "S07", "--intensity", "60", "--grid", "2x2", "--per-position",
              "1", "--amplitudes", replay, "--speed", "max", "--json")  # fmt: skip
    data = json.loads(out)
    assert data["stored"] is None  # and no subject S07 was needed


def test_the_operators_paired_result_is_stored_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """MEPs from a plug-in (a live EMG): the operator's measurement, stored unasked."""
    from stimctl.rmt.registry import register_mep_source, unregister_mep_source

    with Store.open() as store:
        add_subject(store, "S07")
    register_mep_source("test-emg", lambda _rmt, _seed: ConstantSubject(500.0))
    try:
        out = run(capsys, "paired", "S07", "--paradigm", "icf", "--rmt", "50",
                  "--mep-source", "test-emg", "--trials", "2", "--interval", "4",
                  "--jitter", "0", "--seed", "1")  # fmt: skip
    finally:
        unregister_mep_source("test-emg")
    with Store.open() as store:
        (stored,) = list_paired(store, "S07")
    assert stored.source == "operator" and stored.paradigm == "icf" and stored.ratio == 1.0
    assert f"stored as paired-pulse result {stored.id} for S07" in out


def test_an_unknown_subject_is_refused_before_any_pulse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group
    from stimctl.rmt.registry import register_mep_source, unregister_mep_source

    asked: list[ConstantSubject] = []

    def factory(_rmt: float, _seed: int | None) -> ConstantSubject:
        asked.append(ConstantSubject(500.0))
        return asked[-1]

    register_mep_source("test-emg", factory)
    try:
        with pytest.raises(ConfigError, match="nobody"):
            rmt_group.main(
                args=["hotspot", "nobody", "--intensity", "60", "--grid", "1x2",
                      "--mep-source", "test-emg"],
                prog_name="rmt", standalone_mode=False,
            )  # fmt: skip
    finally:
        unregister_mep_source("test-emg")
    assert all(not source.asked for source in asked)


@pytest.mark.parametrize("command", ["paired", "hotspot"])
def test_a_virtual_result_is_never_stored(command: str) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    extra = ["--paradigm", "sici"] if command == "paired" else ["--intensity", "60"]
    args = [command, "S07", *extra, "--virtual-rmt", "50", "--speed", "max", "--store"]
    with pytest.raises(ConfigError, match="never stored"):
        rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)


def test_results_lists_every_kind_and_refuses_an_unknown_subject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    with Store.open() as store:
        add_subject(store, "S07")
    assert "no stored" in run(capsys, "results", "S07")
    curve = amplitudes(tmp_path, [20.0 + 40 * i for i in range(21)])
    run(capsys, "curve", "S07", "--rmt", "50", "--levels", "90,110,130", "--per-level", "7",
        "--amplitudes", curve, "--speed", "max", "--store", "--json")  # fmt: skip
    spots = amplitudes(tmp_path, [100.0, 120.0, 800.0, 900.0])
    run(capsys, "hotspot", "S07", "--intensity", "60", "--grid", "2x2", "--per-position", "1",
        "--amplitudes", spots, "--speed", "max", "--store", "--json")  # fmt: skip
    out = run(capsys, "results", "S07")
    with Store.open() as store:
        (c,) = list_curves(store, "S07")
        (h,) = list_hotspots(store, "S07")
    assert c.id in out and h.id in out and "hotspot  B2 at 60 % MSO: median 900 uV" in out
    with pytest.raises(ConfigError, match="nobody"):
        rmt_group.main(args=["results", "nobody"], prog_name="rmt", standalone_mode=False)
