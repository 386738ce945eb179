"""`stimctl rmt hunt` end to end on a virtual subject, a replay file and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from pytest_mock import MockerFixture

from simulators.virtual_subject import make_source
from stimctl.cli import LazyGroup
from stimctl.errors import ExitCode, StimctlError
from stimctl.rmt.registry import VIRTUAL, register_mep_source, unregister_mep_source

# The `rmt` group belongs to the records CLI; this stand-in loads `hunt` the same lazy way.
rmt = LazyGroup(name="rmt", lazy={"hunt": ("stimctl.cli.rmt_hunt_cmd:hunt", "Hunt an RMT.")})


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Like `stimctl.cli.main`: errors become exit codes."""
    try:
        result = rmt.main(args=["hunt", *args], prog_name="rmt", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except StimctlError as exc:
        code = exc.exit_code
    except click.UsageError:
        code = ExitCode.BAD_INPUT
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def virtual_source() -> Iterator[None]:
    # Until pyproject registers the entry point, tests register the factory by hand.
    register_mep_source(VIRTUAL, make_source)
    yield
    unregister_mep_source(VIRTUAL)


@pytest.mark.parametrize("method", ["rr", "rr-10-20", "mills-nithi", "ml-pest"])
def test_virtual_hunt_prints_json(capsys: pytest.CaptureFixture[str], method: str) -> None:
    code, out, _ = run(
        capsys, "S01", "--method", method, "--virtual-rmt", "58", "--seed", "3",
        "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK
    assert abs(data["rmt"] - 58) <= 6
    assert data["pulses"] == len(data["trace"]) > 0
    assert data["method"].startswith(method.split("-")[0])
    assert data["subject"] == "S01" and data["virtual_rmt"] == 58


def test_same_seed_same_hunt(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("S01", "--method", "ml-pest", "--virtual-rmt", "66", "--seed", "9", "--speed", "max")
    first = run(capsys, *args, "--json")[1]
    assert run(capsys, *args, "--json")[1] == first
    assert run(capsys, *args[:-3], "10", "--speed", "max", "--json")[1] != first


def test_human_output_shows_pulses_and_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "S01", "--method", "rr", "--virtual-rmt", "50", "--seed", "1", "--speed", "max"
    )
    assert code == 0
    assert "% MSO" in out.splitlines()[0]
    assert out.splitlines()[-1].startswith("RMT ")


def test_no_threshold_below_the_cap_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "S01", "--method", "ml-pest", "--virtual-rmt", "95", "--max-intensity", "60",
        "--seed", "2", "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 1
    assert data["rmt"] is None and data["outcome"] == "intensity-cap"
    assert max(p["intensity"] for p in data["trace"]) <= 60


def test_replay_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "meps.csv"
    path.write_text("\n".join(["200"] * 5 + ["20"] * 6) + "\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "S01", "--method", "rr", "--start", "61", "--amplitudes", str(path),
        "--speed", "max", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["rmt"] == 61


def test_a_bad_amplitude_file_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "meps.csv"
    path.write_text("200\nlots\n", encoding="utf-8")
    code, _, _ = run(capsys, "S01", "--method", "rr", "--amplitudes", str(path), "--speed", "max")
    assert code == ExitCode.BAD_INPUT


@pytest.mark.parametrize(
    "extra",
    [
        ("--max-intensity", "101"),
        ("--start", "101"),
        ("--start", "80", "--max-intensity", "70"),
        ("--interval", "2"),
        ("--amplitudes", "x.tsv"),  # two sources at once
    ],
)
def test_refused_before_any_pulse(capsys: pytest.CaptureFixture[str], extra: tuple[str]) -> None:
    args = ("S01", "--method", "rr", "--virtual-rmt", "60", "--speed", "max", *extra)
    assert run(capsys, *args)[0] == ExitCode.BAD_INPUT


def test_max_speed_needs_a_simulated_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "S01", "--method", "rr", "--speed", "max")
    assert code == ExitCode.BAD_INPUT


def test_a_port_without_a_driver_layer_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "S01", "--method", "rr", "--port", "stimsim://magstim-200")
    assert code == ExitCode.BAD_INPUT


def test_missing_virtual_source_registration_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    # The package is always installed with its entry point, so the environment fault
    # "no plug-in registered" is injected at the metadata lookup (it used to skip itself).
    unregister_mep_source(VIRTUAL)
    mocker.patch("stimctl.rmt.registry.entry_points", return_value=())
    code, _, _ = run(capsys, "S01", "--method", "rr", "--virtual-rmt", "60", "--speed", "max")
    assert code == ExitCode.BAD_INPUT


@pytest.fixture
def records_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from stimctl.records import Store, add_subject

    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    with Store.open() as store:
        add_subject(store, "S07")
    return home


def replay_file(tmp_path: Path) -> Path:
    path = tmp_path / "meps.csv"
    path.write_text("\n".join(["200"] * 5 + ["20"] * 6) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("records_home")
def test_a_stored_hunt_lands_in_the_records_with_its_provenance(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from stimctl.records import Store, list_thresholds

    code, out, _ = run(
        capsys, "S07", "--method", "rr", "--start", "61", "--amplitudes",
        str(replay_file(tmp_path)), "--speed", "max", "--store", "--json",
    )  # fmt: skip
    assert code == 0
    with Store.open() as store:
        (stored,) = list_thresholds(store, "S07")
    assert stored.id == json.loads(out)["stored"]
    assert (stored.percent_mso, stored.method, stored.pulses) == (61.0, "emg", 11)
    assert stored.algorithm == "rr-5-of-10"
    assert stored.criterion == "MEP >= 50 uV peak-to-peak in 5 of 10 trials"


@pytest.mark.usefixtures("records_home")
def test_an_active_threshold_hunt_uses_the_200_uv_criterion_and_stores_type_and_muscle(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from stimctl.records import Store, list_thresholds

    # 150 uV counts as a resting MEP (>= 50) but not as an active one (>= 200 uV)
    path = tmp_path / "active.csv"
    path.write_text("\n".join(["250"] * 5 + ["150"] * 6) + "\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "S07", "--method", "rr", "--start", "61", "--amplitudes", str(path),
        "--speed", "max", "--store", "--json", "--type", "amt", "--muscle", "APB",
    )  # fmt: skip
    assert code == 0
    assert (json.loads(out)["type"], json.loads(out)["muscle"]) == ("amt", "APB")
    with Store.open() as store:
        (stored,) = list_thresholds(store, "S07")
    assert (stored.kind, stored.muscle, stored.percent_mso) == ("amt", "APB", 61.0)
    assert stored.criterion is not None and stored.criterion.startswith("MEP >= 200 uV")


@pytest.mark.usefixtures("records_home")
def test_replays_are_not_stored_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from stimctl.records import Store, list_thresholds

    args = ("S07", "--method", "rr", "--start", "61", "--amplitudes", str(replay_file(tmp_path)))
    assert run(capsys, *args, "--speed", "max")[0] == 0
    with Store.open() as store:
        assert list_thresholds(store, "S07") == []


@pytest.mark.usefixtures("records_home")
def test_an_unknown_subject_is_refused_before_any_pulse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _err = run(
        capsys, "S99", "--method", "rr", "--amplitudes", str(replay_file(tmp_path)),
        "--speed", "max", "--store",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert "% MSO" not in out  # no pulse was shown


def test_a_virtual_threshold_is_never_stored(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        capsys, "S07", "--method", "rr", "--virtual-rmt", "60", "--speed", "max", "--store"
    )
    assert code == ExitCode.BAD_INPUT


def test_through_the_real_stimctl_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    from stimctl.cli import main

    code = main(
        ["rmt", "hunt", "S01", "--method", "ml-pest", "--virtual-rmt", "47", "--seed", "5",
         "--speed", "max", "--json"]
    )  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert abs(data["rmt"] - 47) < 6


def test_an_unknown_device_profile_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "S01", "--method", "rr", "--virtual-rmt", "60", "--speed", "max",
        "--device", "no-such-stimulator",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT
    assert out == ""


def test_a_known_device_profile_is_reported_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "S01", "--method", "ml-pest", "--virtual-rmt", "60", "--speed", "max",
        "--device", "magstim-rapid2-standard-240v", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["device"] == "magstim-rapid2-standard-240v"


def test_operator_prompts_go_to_stderr_when_json_is_on_stdout() -> None:
    from click.testing import CliRunner

    from stimctl.cli.rmt_hunt_cmd import hunt

    runner = CliRunner()
    result = runner.invoke(
        hunt,
        ["S01", "--method", "ml-pest", "--max-pulses", "1", "--no-store", "--json"],
        input="maybe\nno\n",
        standalone_mode=False,
    )
    assert result.exception is None, result.exception
    data = json.loads(result.stdout)
    assert (data["outcome"], data["pulses"], data["measurement"]) == ("pulse-cap", 1, "visual")
    assert "Fire one pulse at 60 % MSO now" in result.stderr
    assert "neither yes/no" in result.stderr  # the bad answer was explained, then re-asked
