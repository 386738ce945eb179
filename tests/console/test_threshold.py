"""The threshold screen (issue 7) driven headless with Pilot.

Real parts throughout: the virtual subject of `simulators/`, the ML-PEST method and the
`hunt` runner, on a VirtualClock (subject alone) or a SimulatedClock (through the
MagPro's and the Rapid's drivers into their built-in simulators), so a hunt of 5-6 s
pulse intervals runs in a moment of real time.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
import pytest
from pytest_mock import MockerFixture
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Digits, Static

from simulators.virtual_subject import make_source
from stimctl.cli import LazyGroup
from stimctl.clock import SimulatedClock, VirtualClock
from stimctl.console.threshold import (
    HuntControl,
    HuntEnd,
    HuntJob,
    HuntStopped,
    ResponseDialog,
    ThresholdApp,
    estimate_text,
)
from stimctl.device_profiles import load_profile
from stimctl.errors import ConfigError, ExitCode, StimctlError
from stimctl.journal import journals_dir
from stimctl.rmt import HuntLimits, HuntResult, MlPest, OperatorSource, PulseRecord, hunt
from stimctl.rmt.device import HuntDevice, open_hunt_device
from stimctl.rmt.registry import VIRTUAL, register_mep_source, unregister_mep_source

TRUE_RMT = 52.0
SEED = 3
CAP = 75
MAX_PULSES = 20
MAGPRO = "magpro-x100"
RAPID = "magstim-rapid2-standard-240v"

Steps = Callable[[ThresholdApp, Pilot[Any]], Awaitable[None]]


def method() -> MlPest:
    return MlPest(limits=HuntLimits(CAP, 20, MAX_PULSES))


def subject_alone(control: HuntControl) -> HuntResult:
    """A hunt on the virtual subject, nothing fired (the source stands for the pulse)."""
    return hunt(
        method(),
        make_source(TRUE_RMT, SEED),
        clock=control.clock(VirtualClock()),
        stimulate=control.guard(None),
        rng=random.Random(1),
        on_pulse=control.pulse,
    )


def drive(job: HuntJob, steps: Steps) -> ThresholdApp:
    async def main() -> ThresholdApp:
        app = ThresholdApp(job, title="S01 · ml-pest · test", max_pulses=MAX_PULSES)
        async with app.run_test(size=(100, 40)) as pilot:
            await steps(app, pilot)
        app.wait()  # whatever happened, the job has ended before the test looks
        return app

    return asyncio.run(main())


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"the threshold screen never got to: {what}")


def shown(app: ThresholdApp, selector: str) -> str:
    """A Static's content as plain text (tables rendered as the screen draws them)."""
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(app.query_one(selector, Static).content)
    return console.export_text()


async def until_ended(app: ThresholdApp, pilot: Pilot[Any]) -> HuntEnd:
    await until(pilot, lambda: app.query_one("#result").display, "the result")
    assert app.end is not None
    return app.end


def test_each_pulse_gets_a_row_the_estimate_and_the_result_match_the_runner(
    tmp_path: Path,
) -> None:
    reference = subject_alone(HuntControl())  # the same hunt without a screen

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        end = await until_ended(app, pilot)
        assert end.result == reference
        table = app.query_one("#trace", DataTable)
        assert table.row_count == reference.pulses
        for pulse, key in zip(reference.trace, table.rows, strict=True):
            row = [str(cell) for cell in table.get_row(key)]
            assert row == [
                str(pulse.index),
                str(pulse.intensity),
                f"{pulse.amplitude_uv:.1f}",
                "yes" if pulse.response else "no",
                estimate_text(pulse.estimate),
            ]
        assert app.query_one("#estimate", Digits).value == estimate_text(
            reference.trace[-1].estimate
        )
        assert f"{reference.pulses} / {MAX_PULSES}" in shown(app, "#pulses")
        result = shown(app, "#result")
        assert reference.rmt is not None
        assert f"{reference.rmt:g} % MSO" in result
        assert reference.outcome.value in result
        assert reference.reason[:40] in " ".join(result.split())
        assert "no stimulator was driven" in result
        await pilot.press("q")

    app = drive(subject_alone, steps)
    assert app.return_value is not None and app.return_value.result == reference


def device_job(
    model: str, after_pulse: Callable[[PulseRecord], None], devices: list[HuntDevice]
) -> HuntJob:
    """What `stimctl rmt hunt --device MODEL --virtual-rmt 52 --seed 3 --console` runs:
    the profile's simulator with the virtual subject under its coil, on simulated time."""

    def job(control: HuntControl) -> HuntResult:
        clock = SimulatedClock()
        dev: HuntDevice | None = None
        try:
            with open_hunt_device(
                load_profile(model), None, clock=clock, subject_rmt=TRUE_RMT, subject_seed=SEED
            ) as dev:
                devices.append(dev)

                def on_pulse(record: PulseRecord) -> None:
                    control.pulse(record)
                    after_pulse(record)

                return hunt(
                    method(),
                    dev.emg_source(),
                    clock=control.clock(clock),
                    stimulate=control.guard(dev.stimulate),
                    rng=random.Random(1),
                    on_pulse=on_pulse,
                )
        finally:
            report = None if dev is None else dev.stimulate.stop_report
            control.report_disarm(None if report is None else report.disarmed)

    return job


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize("model", [MAGPRO, RAPID])
def test_the_stop_key_ends_the_hunt_between_pulses_with_the_device_disarmed(
    tmp_path: Path, model: str
) -> None:
    held = threading.Event()
    release = threading.Event()
    devices: list[HuntDevice] = []
    armed_when_held: list[bool] = []

    def hold_after_third(record: PulseRecord) -> None:
        if record.index == 3:
            armed_when_held.append(devices[0].simulator.armed)
            held.set()
            release.wait(10)

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        await until(pilot, held.is_set, "the third pulse")
        await pilot.press("f1")
        assert "STOPPING" in shown(app, "#state")
        release.set()
        end = await until_ended(app, pilot)
        assert end.stopped and isinstance(end.error, HuntStopped)
        assert end.result is None
        assert "STOPPED" in shown(app, "#state")
        assert "device disarmed (confirmed)" in shown(app, "#result")
        assert app.query_one("#trace", DataTable).row_count == 3
        await pilot.press("q")

    app = drive(device_job(model, hold_after_third, devices), steps)
    (dev,) = devices
    assert len(dev.simulator.pulses) == 3  # no pulse after the stop key
    # A MagPro (no watchdog) is disarmed after every pulse; a Rapid stays armed between
    # pulses, so for it the stop's own disarm is what ends it disarmed.
    assert armed_when_held == [model == RAPID]
    assert not dev.simulator.armed
    assert dev.stimulate.stop_report is not None and dev.stimulate.stop_report.disarmed
    assert app.return_value is not None and app.return_value.disarmed is True


@pytest.mark.usefixtures("quiet_logs")
def test_a_hunt_through_the_simulated_magpro_shows_the_devices_own_pulses(
    tmp_path: Path,
) -> None:
    devices: list[HuntDevice] = []

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        end = await until_ended(app, pilot)
        assert end.result is not None and end.result.converged
        assert end.result.rmt is not None and abs(end.result.rmt - TRUE_RMT) <= 5
        assert "device disarmed (confirmed)" in shown(app, "#result")
        (dev,) = devices
        table = app.query_one("#trace", DataTable)
        delivered = [(str(p.intensity), f"{p.mep_uv:.1f}") for p in dev.simulator.pulses]
        assert [tuple(str(c) for c in table.get_row(k)[1:3]) for k in table.rows] == delivered
        await pilot.press("q")

    drive(device_job(MAGPRO, lambda _record: None, devices), steps)


def test_quitting_mid_hunt_stops_it_first_and_closes_once_it_ended(tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def job(control: HuntControl) -> HuntResult:
        def on_pulse(record: PulseRecord) -> None:
            control.pulse(record)
            if record.index == 2:
                held.set()
                release.wait(10)

        return hunt(
            method(),
            make_source(TRUE_RMT, SEED),
            clock=control.clock(VirtualClock()),
            stimulate=control.guard(None),
            on_pulse=on_pulse,
        )

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        await until(pilot, held.is_set, "the second pulse")
        await pilot.press("q")
        assert app.is_running  # not before the hunt has ended
        release.set()
        await until(pilot, lambda: not app.is_running, "the console closed")

    app = drive(job, steps)
    assert app.return_value is not None and app.return_value.stopped
    assert len(app.records) == 2


def test_a_failing_job_is_shown_as_failed_with_its_error(tmp_path: Path) -> None:
    def job(control: HuntControl) -> HuntResult:
        raise ConfigError("the coil is not connected")

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        end = await until_ended(app, pilot)
        assert not end.stopped and isinstance(end.error, ConfigError)
        assert "FAILED" in shown(app, "#state")
        assert "the coil is not connected" in shown(app, "#result")

    drive(job, steps)


def test_the_pacing_clock_keeps_its_deadlines_and_a_stop_ends_a_sleep() -> None:
    control = HuntControl()
    clock = VirtualClock()
    paced = control.clock(clock)
    paced.sleep_until(5.73)
    assert clock.now() == 5.73  # slicing the sleep moves no pulse
    control.request_stop("emergency stop by the operator")
    with pytest.raises(HuntStopped, match="emergency stop"):
        paced.sleep(5.0)
    assert clock.now() == 5.73  # not one slice slept after the stop
    with pytest.raises(HuntStopped):
        control.guard(None)(50)


# --- the CLI flag ----------------------------------------------------------------------

rmt = LazyGroup(name="rmt", lazy={"hunt": ("stimctl.cli.rmt_hunt_cmd:hunt", "Hunt an RMT.")})


@pytest.fixture
def virtual_source() -> Any:
    register_mep_source(VIRTUAL, make_source)
    yield
    unregister_mep_source(VIRTUAL)


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL")


def cli(*args: str) -> int:
    try:
        result = rmt.main(args=["hunt", *args], prog_name="rmt", standalone_mode=False)
    except StimctlError as exc:
        return int(exc.exit_code)
    except click.UsageError:
        return int(ExitCode.BAD_INPUT)
    return result if isinstance(result, int) else 0


@pytest.mark.usefixtures("quiet_logs", "virtual_source")
def test_cli_console_runs_the_hunt_through_the_simulated_magpro_on_screen(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--console` opens the threshold screen. Tests have no terminal: the app runs
    headless, and a pilot waits for the result and presses q."""
    seen: list[ThresholdApp] = []
    original_run = ThresholdApp.run

    async def operator(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ThresholdApp)
        seen.append(app)
        await until(pilot, lambda: app.query_one("#result").display, "the result")
        await pilot.press("q")

    def headless_run(self: ThresholdApp, **_: Any) -> HuntEnd | None:
        return original_run(self, headless=True, size=(100, 40), auto_pilot=operator)

    mocker.patch.object(ThresholdApp, "run", headless_run)
    code = cli(
        "S01", "--method", "ml-pest", "--device", MAGPRO, "--virtual-rmt", str(TRUE_RMT),
        "--seed", str(SEED), "--max-intensity", str(CAP), "--speed", "max", "--console",
    )  # fmt: skip
    out = capsys.readouterr().out
    (app,) = seen
    assert code == ExitCode.OK
    assert app.end is not None and app.end.result is not None
    assert app.end.disarmed is True
    assert len(app.records) == app.end.result.pulses
    assert f"RMT {app.end.result.rmt:g} % MSO" in out  # the summary after the screen


def test_cli_console_and_json_are_two_ways_to_show_one_hunt() -> None:
    code = cli("S01", "--method", "ml-pest", "--virtual-rmt", "52", "--console", "--json")
    assert code == ExitCode.BAD_INPUT


@pytest.mark.usefixtures("quiet_logs")
def test_cli_console_operator_hunt_on_the_magpro_stopped_while_the_question_is_open(
    mocker: MockerFixture,
) -> None:
    """The clinic's flow on the simulated MagPro: the device fires, the operator is asked
    for the response on the screen, and F1 then ends the hunt with the device disarmed."""
    seen: list[ThresholdApp] = []
    original_run = ThresholdApp.run

    async def operator(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ThresholdApp)
        seen.append(app)
        await until(pilot, lambda: isinstance(app.screen, ResponseDialog), "the question")
        assert isinstance(app.screen, ResponseDialog)
        assert "delivered" in app.screen.question.text  # the device fired, not the operator
        await pilot.press("f1")
        await until(pilot, lambda: app.end is not None, "the end")
        await until(pilot, lambda: not isinstance(app.screen, ResponseDialog), "no question")
        await pilot.press("q")

    def headless_run(self: ThresholdApp, **_: Any) -> HuntEnd | None:
        return original_run(self, headless=True, size=(100, 40), auto_pilot=operator)

    mocker.patch.object(ThresholdApp, "run", headless_run)
    code = cli(
        "S01", "--method", "mills-nithi", "--device", MAGPRO, "--port",
        "stimsim://magpro-x100", "--no-store", "--console",
    )  # fmt: skip
    (app,) = seen
    assert app.end is not None and app.end.stopped and app.end.disarmed is True
    assert code == HuntStopped("").exit_code
    (journal,) = journals_dir().glob("rmt-*")
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["event"] for e in events[-2:]] == ["session_end", "seal"]
    assert "emergency stop" in events[-2]["payload"]["reason"]


def test_the_operator_answers_each_pulse_in_a_dialog_and_a_bad_answer_is_asked_again(
    tmp_path: Path,
) -> None:
    def job(control: HuntControl) -> HuntResult:
        return hunt(
            MlPest(limits=HuntLimits(CAP, 20, 3)),
            OperatorSource(control.ask, control.tell),
            clock=control.clock(VirtualClock()),
            stimulate=control.guard(None),
            on_pulse=control.pulse,
        )

    async def answer(app: ThresholdApp, pilot: Pilot[Any], *keys: str) -> None:
        await until(pilot, lambda: isinstance(app.screen, ResponseDialog), "a question")
        dialog = app.screen
        await pilot.press(*keys)
        await until(pilot, lambda: app.screen is not dialog, "the answer taken")

    async def steps(app: ThresholdApp, pilot: Pilot[Any]) -> None:
        await answer(app, pilot, *"maybe", "enter")
        await answer(app, pilot, *"72.5", "enter")
        await answer(app, pilot, *"yes", "enter")
        await until(pilot, lambda: isinstance(app.screen, ResponseDialog), "a question")
        await pilot.click("#no")
        end = await until_ended(app, pilot)
        assert end.result is not None
        trace = end.result.trace
        assert [(p.amplitude_uv, p.visible) for p in trace] == [
            (72.5, None),
            (None, True),
            (None, False),
        ]
        assert app.query_one("#trace", DataTable).row_count == 3
        assert any("neither yes/no" in str(n.message) for n in app._notifications)

    drive(job, steps)
