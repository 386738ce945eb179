"""MagPro output plans beyond single pulses (burst, Dual pair), set and read back before
enabling, judged by the simulator's own pulse log (device-protocols B3, B4 cmd 9, B6)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import serial

from drivers.magventure import MagProDriver
from drivers.magventure import _output as output
from drivers.magventure.codec import Message
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, OutputStateMismatch
from stimctl.hal import OutputPlan, PairedPulse, Transport

simulators = pytest.importorskip("simulators")
_names = itertools.count()


@pytest.fixture
def magpro() -> Iterator[tuple[MagProDriver, Any, VirtualClock]]:
    simulators.install_url_handler()
    clock = VirtualClock()
    name = f"magpro-output-{next(_names)}"
    simulators.register_clock(name, clock)
    port = serial.serial_for_url(f"stimsim://magpro-x100?magoption=1&clock={name}", timeout=0.02)
    driver = MagProDriver("stimsim://", clock=clock, transport=Transport(port), link_watch=False)
    try:
        driver.open()
        yield driver, port.simulator, clock
    finally:
        driver.close()
        simulators.unregister_clock(name)


def _fire(driver: MagProDriver, clock: VirtualClock) -> None:
    driver.arm()
    driver.fire()
    clock.advance(0.5)
    driver.status()


def test_a_planned_burst_delivers_that_many_pulses(magpro: Any) -> None:
    driver, sim, clock = magpro
    driver.set_intensity(40)
    driver.plan_output(OutputPlan(burst_pulses=3, burst_ipi_ms=20.0))
    _fire(driver, clock)
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 40)] * 3


def test_a_planned_dual_pair_fires_b_at_its_own_amplitude(magpro: Any) -> None:
    driver, sim, clock = magpro
    driver.set_intensity(40)
    driver.plan_output(OutputPlan(paired=PairedPulse(60, 3.0)))
    _fire(driver, clock)
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 40), ("B", 60)]
    assert sim.pulses[1].time - sim.pulses[0].time == pytest.approx(0.003)


def test_back_to_single_pulse_after_a_pair(magpro: Any) -> None:
    driver, sim, clock = magpro
    driver.set_intensity(40)
    driver.plan_output(OutputPlan(paired=PairedPulse(60, 3.0)))
    driver.arm()
    driver.disarm()
    driver.plan_output(OutputPlan())
    _fire(driver, clock)
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 40)]
    assert (sim.state.mode, sim.state.amplitude_b) == (0, 0)


def test_a_burst_count_the_device_does_not_take_blocks_arming(magpro: Any) -> None:
    driver, sim, _ = magpro
    driver.set_intensity(40)
    sim.set_state(waveform=3, burst_index=0)  # left in a 5-pulse burst ...
    sim.faults.ignore_settings = True  # ... and it keeps it
    with pytest.raises(OutputStateMismatch, match="waveform reads 3, planned 1"):
        driver.arm()
    assert not sim.armed and sim.pulses == []


@pytest.mark.parametrize(
    "plan",
    [
        OutputPlan(enhanced_power=True),
        OutputPlan(waveform="triangle"),
        OutputPlan(current_direction="sideways"),
        OutputPlan(paired=PairedPulse(50, 3.0), waveform="biphasic-burst"),
    ],
)
def test_plans_a_magpro_cannot_deliver_are_refused(magpro: Any, plan: OutputPlan) -> None:
    driver, _, _ = magpro
    with pytest.raises(ConfigError):
        driver.plan_output(plan)


def test_the_profile_waveform_and_direction_are_the_single_pulse_default() -> None:
    args = output.mode_args(OutputPlan(), waveform=0, direction=1)
    assert output.wanted(OutputPlan(), args) == {
        "power_b": 0,
        "mode": 0,
        "waveform": 0,
        "direction": 1,
    }


def test_read_back_decodes_the_burst_count_and_interval() -> None:
    status = Message(id=0, raw=b"", amplitude_a=40, amplitude_b=0)
    mode = Message(id=9, raw=b"", mode=0, direction=0, waveform=3, burst_index=2, ipi_index=80)
    assert output.read_back(status, mode) == {
        "power_a": 40,
        "power_b": 0,
        "mode": 0,
        "waveform": 3,
        "direction": 0,
        "ipi_x10": 200,  # B6: burst index 80 = 20.0 ms
        "burst_pulses": 3,  # B3: index 2 = 3 pulses
    }


def test_a_driver_option_cannot_make_bursts_the_single_pulse_default() -> None:
    with pytest.raises(ConfigError, match="burst"):
        MagProDriver("stimsim://magpro-x100", waveform="biphasic burst")


def test_triggers_closer_than_the_rate_limit_are_spaced_not_dropped() -> None:
    """Two fires back to back (a host-timed train catching up after a late pulse): the
    MagPro ignores a trigger within 10 ms of the last (X100, B7) while the host would
    journal it, so the driver waits out the gap. Real time, in-process simulator."""
    from stimctl.clock import MonotonicClock

    simulators.install_url_handler()
    port = serial.serial_for_url("stimsim://magpro-x100", timeout=0.02)
    sim = port.simulator
    driver = MagProDriver("stimsim://", clock=MonotonicClock(), transport=Transport(port))
    try:
        driver.open()
        driver.set_intensity(30)
        driver.arm()
        driver.fire()
        driver.fire()
        driver.fire()
        assert [p.intensity for p in sim.pulses] == [30, 30, 30]
        gaps = [b.time - a.time for a, b in itertools.pairwise(sim.pulses)]
        assert min(gaps) >= 0.010
    finally:
        driver.close()
