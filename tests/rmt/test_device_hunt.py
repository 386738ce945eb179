"""Threshold hunts that fire through a real driver into a simulated stimulator.

The simulator carries a virtual subject (spec key subject_rmt), so the chain is the one
of a clinic: method -> runner -> driver -> bytes -> device -> MEP -> method. Each test
checks the device's own pulse log, not only what the hunt believes it did.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_mock import MockerFixture

from simulators import PtyServer, create_simulator
from stimctl.clock import MonotonicClock, SimulatedClock
from stimctl.device_profiles import load_profile
from stimctl.errors import (
    ConfigError,
    ConnectionLost,
    ExitCode,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.rmt import (
    HuntLimits,
    HuntResult,
    MillsNithi,
    MlPest,
    PulseInterval,
    PulseRecord,
    hunt,
)
from stimctl.rmt.device import HuntDevice, check_hunt_fits_device, open_hunt_device
from stimctl.rmt.simulator_source import SimulatorEmgSource

RAPID = "magstim-rapid2-standard-240v"
MAGPRO = "magpro-x100"
FAMILIES = [RAPID, MAGPRO]
TRUE_RMT = 52.0
CAP = 75


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The drivers log their safe stops; keep them out of the test output."""
    caplog.set_level("CRITICAL")


def method_named(name: str) -> MlPest | MillsNithi:
    if name == "ml-pest":
        return MlPest(limits=HuntLimits(CAP, 20, 20))
    return MillsNithi(70, limits=HuntLimits(CAP, 20, 250))


def assert_log_is_the_trace(simulator: Any, result: HuntResult) -> None:
    """The device delivered exactly the hunt's pulses, at its intensities, with its MEPs."""
    delivered = [(p.intensity, p.mep_uv) for p in simulator.pulses]
    assert delivered == [(r.intensity, r.amplitude_uv) for r in result.trace]


# --- the Python API --------------------------------------------------------------------


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("method", ["ml-pest", "mills-nithi"])
@pytest.mark.parametrize("model", FAMILIES)
def test_a_hunt_through_each_driver_family_converges_on_the_devices_own_pulses(
    clock: SimulatedClock, model: str, method: str
) -> None:
    profile = load_profile(model)
    with open_hunt_device(profile, None, clock=clock, subject_rmt=TRUE_RMT, subject_seed=3) as dev:
        result = hunt(
            method_named(method),
            dev.emg_source(),
            clock=clock,
            stimulate=dev.stimulate,
            rng=random.Random(1),
        )
    sim = dev.simulator
    assert result.rmt is not None and abs(result.rmt - TRUE_RMT) <= 5, result.rmt
    assert_log_is_the_trace(sim, result)
    assert max(p.intensity for p in sim.pulses) <= CAP
    gaps = [b.time - a.time for a, b in zip(sim.pulses, sim.pulses[1:], strict=False)]
    assert min(gaps) >= PulseInterval().minimum_s  # simulated time: exact, not a timing test
    assert not sim.armed
    assert dev.stimulate.stop_report is not None and dev.stimulate.stop_report.disarmed


def hunt_failing_at(
    model: str, clock: SimulatedClock, index: int, fault: Callable[[HuntDevice], None]
) -> HuntDevice:
    """Hunt on `model` with a subject; after pulse `index`, `fault(device)` happens.

    The exception the fault causes escapes (the caller expects it); the device is saved
    first so the caller can look at it afterwards.
    """
    opened: list[HuntDevice] = []

    def after_pulse(record: PulseRecord) -> None:
        if record.index == index:
            fault(opened[0])

    def run() -> None:
        with open_hunt_device(load_profile(model), None, clock=clock, subject_rmt=60) as dev:
            opened.append(dev)
            hunt(
                MlPest(limits=HuntLimits(CAP, 20, 20)),
                dev.emg_source(),
                clock=clock,
                stimulate=dev.stimulate,
                on_pulse=after_pulse,
            )

    run()
    raise AssertionError("the fault did not stop the hunt")  # pragma: no cover


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("model", FAMILIES)
def test_a_pulled_cable_mid_hunt_is_connection_lost_and_leaves_the_device_disarmed(
    clock: SimulatedClock, model: str
) -> None:
    seen: list[HuntDevice] = []

    def pull(dev: HuntDevice) -> None:
        seen.append(dev)
        dev.simulator.pull_cable()

    with pytest.raises(ConnectionLost) as raised:
        hunt_failing_at(model, clock, 3, pull)
    assert raised.value.exit_code == ExitCode.CONNECTION
    (dev,) = seen
    sim = dev.simulator
    assert len(sim.pulses) == 3
    # Nobody can confirm a disarm over a dead link, and the report says so...
    assert dev.stimulate.stop_report is not None and not dev.stimulate.stop_report.disarmed
    # ...but the device is disarmed: the Rapid by its keep-alive watchdog, the MagPro
    # (no watchdog) because the host disarmed it after each pulse.
    clock.advance(2.0)
    sim.poll()
    assert not sim.armed


@pytest.mark.usefixtures("quiet_logs")
def test_an_error_between_pulses_disarms_a_device_left_armed(clock: SimulatedClock) -> None:
    seen: list[tuple[HuntDevice, bool]] = []

    def console_closed(dev: HuntDevice) -> None:
        seen.append((dev, dev.simulator.armed))
        raise RuntimeError("console closed")

    with pytest.raises(RuntimeError, match="console closed"):
        hunt_failing_at(RAPID, clock, 2, console_closed)
    ((dev, armed_when_it_failed),) = seen
    assert armed_when_it_failed  # a Rapid stays armed between pulses...
    assert not dev.simulator.armed  # ...and the hunt's end disarmed it
    assert dev.stimulate.stop_report is not None and dev.stimulate.stop_report.disarmed
    assert len(dev.simulator.pulses) == 2


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize(("model", "between"), [(RAPID, False), (MAGPRO, True)])
def test_only_a_device_without_a_watchdog_is_disarmed_between_pulses(
    clock: SimulatedClock, model: str, between: bool
) -> None:
    with open_hunt_device(load_profile(model), None, clock=clock) as dev:
        dev.stimulate(55)
        assert dev.stimulate.disarm_between_pulses is between
        assert dev.simulator.armed is not between
    assert [p.intensity for p in dev.simulator.pulses] == [55]
    assert not dev.simulator.armed


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("model", FAMILIES)
def test_a_second_pulse_faster_than_the_device_allows_is_refused(
    clock: SimulatedClock, model: str
) -> None:
    profile = load_profile(model)
    with open_hunt_device(profile, None, clock=clock) as dev:
        dev.stimulate(50)
        clock.sleep(0.5 / profile.single_pulse_max_rate_hz)
        with pytest.raises(SafetyViolation) as refused:
            dev.stimulate(50)
        clock.sleep(0.5 / profile.single_pulse_max_rate_hz)
        dev.stimulate(51)  # a full period after the first: allowed again
    assert refused.value.rule == "single-pulse-rate"
    assert [p.intensity for p in dev.simulator.pulses] == [50, 51]


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("intensity", [101, 150])
def test_an_intensity_beyond_the_device_is_refused_not_clipped(
    clock: SimulatedClock, intensity: int
) -> None:
    with (
        open_hunt_device(load_profile(MAGPRO), None, clock=clock) as dev,
        pytest.raises(SafetyViolation),
    ):
        dev.stimulate(intensity)
    assert dev.simulator.pulses == []


@pytest.mark.usefixtures("quiet_logs")
def test_a_fractional_intensity_is_refused(clock: SimulatedClock) -> None:
    with (
        open_hunt_device(load_profile(MAGPRO), None, clock=clock) as dev,
        pytest.raises(ConfigError, match="whole"),
    ):
        dev.stimulate(55.5)  # type: ignore[arg-type]
    assert dev.simulator.pulses == []


def test_the_hunt_must_fit_the_device_before_the_first_pulse() -> None:
    profile = load_profile("magstim-200")  # one single pulse every 4 s at most
    check_hunt_fits_device(profile, HuntLimits(100), PulseInterval(4.0, 0.0))
    slow = profile.model_copy(update={"single_pulse_max_rate_hz": 0.2})
    with pytest.raises(ConfigError, match="single-pulse limit"):
        check_hunt_fits_device(slow, HuntLimits(100), PulseInterval(4.5, 1.0))
    weak = profile.model_copy(update={"max_output_percent_mso": 80.0})
    check_hunt_fits_device(weak, HuntLimits(80), PulseInterval())
    with pytest.raises(ConfigError, match="maximum output"):
        check_hunt_fits_device(weak, HuntLimits(81), PulseInterval())


@pytest.mark.usefixtures("quiet_logs")
def test_a_stimsim_port_passes_its_keys_to_the_profiles_simulator(clock: SimulatedClock) -> None:
    port = "stimsim://magpro-x100?coil_temp_c=31"
    with open_hunt_device(load_profile(MAGPRO), port, clock=clock, subject_rmt=40) as dev:
        assert dev.simulated
        assert dev.simulator.coil_temperatures()[0] == pytest.approx(31.0)
        assert dev.simulator.subject.true_rmt == 40.0


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("stimsim://magstim-200", "simulates magstim-200"),
        ("stimsim://magpro-x100?clock=x", "own clock"),
        ("stimsim://magpro-x100?subject_rmt=50", "--virtual-rmt"),
        ("stimsim://magpro-x100?a=1&a=2", "given twice"),
    ],
)
def test_a_stimsim_port_that_contradicts_the_profile_is_refused(
    clock: SimulatedClock, port: str, message: str
) -> None:
    opening = open_hunt_device(load_profile(MAGPRO), port, clock=clock)
    with pytest.raises(ConfigError, match=message):
        opening.__enter__()


def test_a_virtual_subject_is_refused_behind_a_real_port(clock: SimulatedClock) -> None:
    opening = open_hunt_device(load_profile(MAGPRO), "/dev/ttyUSB0", clock=clock, subject_rmt=50)
    with pytest.raises(ConfigError, match="real coil"):
        opening.__enter__()


# --- the MEP source over a simulator's pulse log ---------------------------------------


@dataclass
class LoggedPulse:
    intensity: int
    mep_uv: float | None


@dataclass
class PulseLog:
    """The part of a simulator the source reads: its pulse log."""

    pulses: list[LoggedPulse] = field(default_factory=list)


def test_the_source_reads_the_mep_of_the_one_new_pulse() -> None:
    log = PulseLog([LoggedPulse(30, 9.0)])  # before the hunt: not the hunt's
    source = SimulatorEmgSource(log)
    log.pulses.append(LoggedPulse(55, 80.0))
    assert source.response(55).amplitude_uv == 80.0


@pytest.mark.parametrize(
    ("new", "error", "message"),
    [
        ([], StateError, "logged 0 pulses"),
        ([LoggedPulse(55, 1.0), LoggedPulse(55, 2.0)], StateError, "logged 2 pulses"),
        ([LoggedPulse(56, 80.0)], SafetyViolation, "delivered 56 % MSO"),
        ([LoggedPulse(55, None)], ConfigError, "no subject"),
    ],
)
def test_the_source_refuses_a_log_that_is_not_the_hunts_pulse(
    new: list[LoggedPulse], error: type[StimctlError], message: str
) -> None:
    log = PulseLog()
    source = SimulatorEmgSource(log)
    log.pulses.extend(new)
    with pytest.raises(error, match=message):
        source.response(55)


# --- the CLI ---------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`stimctl rmt hunt ...` through the real entry point (errors become exit codes)."""
    from stimctl.cli import main

    code = main(["rmt", "hunt", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("model", FAMILIES)
def test_cli_simulates_the_device_and_prints_json(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture, model: str
) -> None:
    spy = mocker.spy(HuntDevice, "emg_source")
    code, out, _ = cli(
        capsys, "S01", "--method", "ml-pest", "--device", model, "--virtual-rmt", "52",
        "--seed", "3", "--max-intensity", str(CAP), "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK
    assert {"rmt", "pulses", "method"} <= data.keys()
    assert abs(data["rmt"] - 52) <= 5 and data["method"] == "ml-pest"
    assert (data["device"], data["fired_by"], data["disarmed"]) == (model, "simulator", True)
    sim = spy.spy_return.simulator
    assert [(p.intensity, p.mep_uv) for p in sim.pulses] == [
        (p["intensity"], p["amplitude_uv"]) for p in data["trace"]
    ]
    assert data["pulses"] == len(sim.pulses) and max(p.intensity for p in sim.pulses) <= CAP
    assert not sim.armed


@pytest.mark.usefixtures("quiet_logs")
def test_cli_takes_an_explicit_stimsim_port(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    spy = mocker.spy(HuntDevice, "emg_source")
    code, out, _ = cli(
        capsys, "S01", "--method", "mills-nithi", "--device", MAGPRO, "--port",
        "stimsim://magpro-x100?coil_temp_c=30", "--virtual-rmt", "61", "--seed", "2",
        "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK and abs(data["rmt"] - 61) <= 5
    assert len(spy.spy_return.simulator.pulses) == data["pulses"]


@pytest.mark.usefixtures("quiet_logs")
def test_cli_never_prints_the_rapids_unlock_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys, "S01", "--method", "ml-pest", "--device", RAPID, "--port",
        "stimsim://magstim-rapid2?unlock_code=abcd-0123abcd-5e", "--virtual-rmt", "50",
        "--seed", "1", "--speed", "max", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK
    assert json.loads(out)["port"] == "stimsim://magstim-rapid2?unlock_code=***"
    assert "0123abcd" not in out + err


@pytest.mark.usefixtures("quiet_logs")
def test_cli_pulled_cable_is_one_clear_error_and_its_exit_code(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    original = SimulatorEmgSource.response
    calls: list[int] = []

    def pull_on_third(self: SimulatorEmgSource, intensity: int) -> Any:
        calls.append(intensity)
        reading = original(self, intensity)
        if len(calls) == 3:
            self.simulator.pull_cable()  # the OS fault: the port vanishes
            pulled.append(self.simulator)
        return reading

    pulled: list[Any] = []
    mocker.patch.object(SimulatorEmgSource, "response", pull_on_third)
    code, out, err = cli(
        capsys, "S01", "--method", "ml-pest", "--device", RAPID, "--virtual-rmt", "52",
        "--seed", "3", "--speed", "max", "--json",
    )  # fmt: skip
    assert code == ExitCode.CONNECTION
    assert out == ""
    lines = err.strip().splitlines()
    assert any("did not confirm the disarm" in line for line in lines)
    assert lines[-1].startswith("stimctl: error:") and "port is gone" in lines[-1]
    (sim,) = pulled
    assert len(sim.pulses) == 3 and not sim.armed


@pytest.mark.parametrize(
    "extra",
    [
        ("--port", "stimsim://magpro-x100"),  # a port needs a device profile
        ("--device", MAGPRO, "--port", "/dev/ttyUSB0", "--virtual-rmt", "50"),
        ("--device", MAGPRO, "--port", "/dev/ttyUSB0", "--speed", "max"),
        ("--device", MAGPRO, "--port", "stimsim://magstim-200", "--virtual-rmt", "50"),
        ("--device", MAGPRO, "--virtual-rmt", "50", "--store"),
        ("--device", MAGPRO, "--port", "stimsim://magpro-x100", "--store"),
        ("--device", MAGPRO, "--port", "/dev/ttyUSB0", "--amplitudes", "x.tsv"),
        ("--virtual-rmt", "50", "--driver-option", "unlock_code=x"),
        ("--device", MAGPRO, "--port", "/dev/ttyUSB0", "--driver-option", "novalue"),
    ],
)
def test_cli_refuses_before_touching_a_port(
    capsys: pytest.CaptureFixture[str], extra: tuple[str, ...]
) -> None:
    code, out, _ = cli(capsys, "S01", "--method", "rr", *extra)
    assert code == ExitCode.BAD_INPUT
    assert "% MSO" not in out


@pytest.fixture
def pty_magpro() -> Iterator[tuple[str, Any]]:
    """A MagPro simulator with a subject behind a pseudo-terminal: to stimctl, hardware."""
    sim = create_simulator("magpro-x100?subject_rmt=50&subject_seed=1", MonotonicClock())
    with PtyServer(sim) as server:
        stop = threading.Event()
        thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
        thread.start()
        try:
            yield server.path, sim
        finally:
            stop.set()
            thread.join(5)


@pytest.mark.usefixtures("quiet_logs")
def test_cli_fires_through_a_real_port_and_asks_only_for_the_response(
    pty_magpro: tuple[str, Any],
) -> None:
    from stimctl.cli.rmt_hunt_cmd import hunt as hunt_cmd

    path, sim = pty_magpro
    result = CliRunner().invoke(
        hunt_cmd,
        ["S01", "--method", "ml-pest", "--max-pulses", "1", "--device", MAGPRO,
         "--port", path, "--no-store", "--json"],
        input="no\n",
        standalone_mode=False,
    )  # fmt: skip
    assert result.exception is None, result.exception
    data = json.loads(result.stdout)
    assert (data["fired_by"], data["disarmed"], data["pulses"]) == ("device", True, 1)
    assert "delivered. Response?" in result.stderr and "Fire one pulse" not in result.stderr
    assert [p.intensity for p in sim.pulses] == [data["trace"][0]["intensity"]]
    assert not sim.armed
