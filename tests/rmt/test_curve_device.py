"""`rmt curve` firing through a driver (issue 19 item 2): simulated devices, the journal,
the caps, a plug-in MEP source and the operator."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from pytest_mock import MockerFixture

from simulators.virtual_subject import VirtualSubject, make_source
from stimctl.errors import ConfigError, ExitCode
from stimctl.journal import JournalRecord, journals_dir, read, verify
from stimctl.mep import MepReading
from stimctl.rmt.device import HuntDevice
from stimctl.rmt.registry import VIRTUAL, register_mep_source, unregister_mep_source

RAPID = "magstim-rapid2-standard-240v"
MAGPRO = "magpro-x100"


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL")


@pytest.fixture
def virtual_source() -> Iterator[None]:
    register_mep_source(VIRTUAL, make_source)
    yield
    unregister_mep_source(VIRTUAL)


def curve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    code = rmt_group.main(args=["curve", *args], prog_name="rmt", standalone_mode=False)
    return int(code), capsys.readouterr().out


def journal_records() -> list[JournalRecord]:
    files = sorted(journals_dir().glob("rmt-*.jsonl"))
    assert len(files) == 1, files
    assert verify(files[0]).ok
    return read(files[0])


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("model", [RAPID, MAGPRO])
def test_a_curve_fires_through_the_simulated_device_and_reads_its_pulses(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture, model: str
) -> None:
    spy = mocker.spy(HuntDevice, "emg_source")
    code, out = curve(
        capsys, "S01", "--device", model, "--virtual-rmt", "50", "--seed", "5",
        "--levels", "90,110,130", "--per-level", "3", "--max-intensity", "70",
        "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK
    assert (data["device"], data["fired_by"], data["disarmed"]) == (model, "simulator", True)
    sim = spy.spy_return.simulator
    assert [(p.intensity, p.mep_uv) for p in sim.pulses] == [
        (p["intensity"], p["amplitude_uv"]) for p in data["pulses"]
    ]
    assert sorted(p.intensity for p in sim.pulses) == [45] * 3 + [55] * 3 + [65] * 3
    times = [p.time for p in sim.pulses]
    assert all(b - a >= 4.0 for a, b in itertools.pairwise(times))
    assert not sim.armed


@pytest.mark.usefixtures("quiet_logs")
def test_every_fired_pulse_is_journaled_with_its_reading_and_the_fit() -> None:
    from click.testing import CliRunner

    from stimctl.cli.rmt_cmd import rmt as rmt_group

    args = ["curve", "S01", "--device", RAPID, "--virtual-rmt", "50", "--seed", "5",
            "--levels", "90,110,130", "--per-level", "2", "--speed", "max"]  # fmt: skip
    result = CliRunner().invoke(rmt_group, args)
    assert result.exit_code == 0, result.output
    records = journal_records()
    kinds = [r["event"] for r in records]
    assert records[0]["payload"]["kind"] == "recruitment-curve"
    assert records[0]["payload"]["plan"]["levels_percent_rmt"] == [90, 110, 130]
    assert kinds.count("pulse") == 6
    end = next(r for r in records if r["event"] == "session_end")["payload"]
    assert end["status"] == "completed" and end["pulses_delivered"] == 6
    assert {"s50", "k", "plateau_uv"} <= end["result"].keys()


def test_a_level_above_the_cap_is_refused_before_the_port_opens(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    opened = mocker.spy(HuntDevice, "__init__")
    with pytest.raises(ConfigError, match="above the intensity cap"):
        curve(capsys, "S01", "--device", RAPID, "--virtual-rmt", "60", "--max-intensity", "70")
    assert opened.call_count == 0


def test_an_interval_shorter_than_the_device_allows_is_refused_before_the_port_opens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError, match="interval"):
        curve(capsys, "S01", "--device", "magstim-bistim", "--virtual-rmt", "40",
              "--interval", "3")  # fmt: skip


def test_a_virtual_subject_behind_a_real_port_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError, match="real coil"):
        curve(capsys, "S01", "--device", RAPID, "--port", "/dev/ttyUSB9", "--virtual-rmt", "50")


def test_two_mep_sources_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="different MEP sources"):
        curve(capsys, "S01", "--virtual-rmt", "50", "--mep-source", "virtual")


class _PluginSource:
    """What a plug-in in stimctl.mep_sources provides: one amplitude per pulse."""

    def __init__(self, reference: float, seed: int | None) -> None:
        self.subject = VirtualSubject(reference, seed)
        self.reference = reference

    def response(self, intensity_percent_mso: int) -> MepReading:
        return self.subject.response(intensity_percent_mso)


def test_a_plugin_mep_source_gets_the_reference_threshold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    made: list[_PluginSource] = []

    def factory(true_rmt: float, seed: int | None) -> _PluginSource:
        made.append(_PluginSource(true_rmt, seed))
        return made[-1]

    register_mep_source("test-emg", factory)
    try:
        code, out = curve(
            capsys, "S01", "--rmt", "55", "--mep-source", "test-emg", "--seed", "2",
            "--no-store", "--json", "--levels", "90,120,150", "--per-level", "1",
            "--interval", "4", "--jitter", "0",
        )  # fmt: skip
    finally:
        unregister_mep_source("test-emg")
    assert code == ExitCode.OK and made[0].reference == 55.0
    assert len(json.loads(out)["pulses"]) == 3
