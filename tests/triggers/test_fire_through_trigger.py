"""A driver with a trigger line attached fires through it; the simulators' Trigger In
logs the trigger times and enforces the unit's own limits (issue 18 items 1-2).

Real parts: the Rapid² and MagPro byte-level simulators behind `stimsim://`, the shipped
drivers from the registry, the simulated line on one `VirtualClock`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import serial
from pytest_mock import MockerFixture

import simulators
from stimctl import simwire
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, StateError
from stimctl.hal import Stimulator, Transport, TriggerLine, load_driver, open_trigger
from tests.triggers.conftest import wire_name

UNLOCK = "abcd-0123abcd-5e"
_names = itertools.count()


@dataclass
class Rig:
    driver: Stimulator
    sim: Any
    clock: VirtualClock
    line: TriggerLine
    wire: str


def _rig(spec: str, driver_name: str, options: dict[str, Any]) -> Iterator[Rig]:
    simulators.install_url_handler()
    clock = VirtualClock(1000.0)
    clock_name = f"trig-{next(_names)}"
    simulators.register_clock(clock_name, clock)
    name = wire_name()
    port = serial.serial_for_url(
        f"stimsim://{spec}&clock={clock_name}&trigger=sim://{name}", timeout=0.02
    )
    driver = load_driver(driver_name)(
        "stimsim://", clock=clock, transport=Transport(port), **options
    )
    line = open_trigger(f"sim://{name}", clock=clock)
    try:
        yield Rig(driver, port.simulator, clock, line, name)
    finally:
        driver.close()
        line.close()
        simulators.unregister_clock(clock_name)


@pytest.fixture
def rapid() -> Iterator[Rig]:
    spec = f"magstim-rapid2?version=10.0&unlock_code={UNLOCK}&type=super-plus"
    yield from _rig(spec, "magstim-rapid2", {"unlock_code": UNLOCK})


@pytest.fixture
def standard_rapid() -> Iterator[Rig]:
    spec = f"magstim-rapid2?version=10.0&unlock_code={UNLOCK}"
    yield from _rig(spec, "magstim-rapid2", {"unlock_code": UNLOCK})


@pytest.fixture
def magpro() -> Iterator[Rig]:
    yield from _rig("magpro-x100?seed=1", "magpro", {})


def _ready(rig: Rig, percent: int) -> None:
    rig.driver.set_intensity(percent)
    rig.driver.arm()
    rig.driver.wait_ready(timeout_s=5.0, poll_s=0.05)


def test_fire_pulses_the_line_and_returns_the_lines_receipt(rapid: Rig) -> None:
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    _ready(rapid, 30)
    due = rapid.clock.now() + 0.5
    receipt = rapid.driver.fire(scheduled_s=due)
    assert receipt.via == f"sim://{rapid.wire}"
    assert (receipt.scheduled_s, receipt.actual_s) == (due, due)
    pulses = rapid.sim.pulses
    assert [(p.time, p.intensity, p.via) for p in pulses] == [(due, 30, "trigger")]
    assert [(e.time, e.delivered) for e in rapid.sim.triggers] == [(due, True)]


def test_without_a_trigger_fire_goes_over_serial(rapid: Rig) -> None:
    rapid.driver.open()
    _ready(rapid, 30)
    receipt = rapid.driver.fire()
    assert receipt.via == "serial"
    assert [p.via for p in rapid.sim.pulses] == ["serial"]
    assert rapid.sim.triggers == []


def test_the_ready_precondition_still_applies_with_a_trigger(rapid: Rig) -> None:
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    rapid.driver.set_intensity(30)
    with pytest.raises(StateError, match="cannot fire"):
        rapid.driver.fire()
    assert rapid.sim.triggers == []  # not a single edge went out


def test_theta_burst_on_a_rapid2_fires_every_pulse_through_trigger_in(rapid: Rig) -> None:
    """MAGIC #21/#27: 50 Hz triplets every 200 ms cannot be fired over serial (1 Hz,
    TDb087 §5.5); through Trigger In a Super Rapid² Plus at 30 % (100 Hz max, A9) takes
    them, each logged at its trigger time."""
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    _ready(rapid, 30)
    start = rapid.clock.now() + 0.1
    times = [start + b * 0.2 + k * 0.02 for b in range(10) for k in range(3)]
    receipts = [rapid.driver.fire(scheduled_s=t) for t in times]
    assert [r.actual_s for r in receipts] == times
    assert [p.time for p in rapid.sim.pulses] == pytest.approx(times)
    assert all(p.via == "trigger" and p.intensity == 30 for p in rapid.sim.pulses)


def test_serial_fires_at_theta_burst_rate_are_refused_by_the_simulator(rapid: Rig) -> None:
    """The contrast: over serial the second pulse of a triplet finds the unit recharging."""
    rapid.driver.open()
    _ready(rapid, 30)
    rapid.driver.fire()
    rapid.clock.advance(0.02)
    with pytest.raises(StateError, match="cannot fire"):
        rapid.driver.fire()


def test_the_simulator_enforces_its_recharge_on_triggered_pulses() -> None:
    """A standard Rapid² at 60 % allows 25 Hz (A9, 240 V type 0): an edge 20 ms after a
    pulse finds it recharging, and the simulator says so instead of firing."""
    clock = VirtualClock()
    name = wire_name()
    sim = simulators.create_simulator(f"magstim-rapid2?version=8&trigger=sim://{name}", clock)
    sim.set_state(remote=True, power_a=60, arm="ready")
    wire = simwire.wire(name)
    for t in (0.0, 0.02, 0.04):
        clock.sleep_until(t)
        wire.drive(True, t)
        wire.drive(False, t + 0.001)
    edges = sim.triggers
    assert [e.delivered for e in edges] == [True, False, True]
    assert edges[1].reason == "not ready (armed)"
    assert [p.time for p in sim.pulses] == [0.0, 0.04]


def test_the_simulator_enforces_63000_joules_per_minute_on_triggered_pulses() -> None:
    """A9: at 100 % (252 J) a minute holds 250 pulses; the 251st within 60 s is refused."""
    clock = VirtualClock()
    name = wire_name()
    sim = simulators.create_simulator(
        f"magstim-rapid2?version=8&trigger=sim://{name}&auto_disarm_s=3600"
        "&keepalive_armed_s=3600&heat_c_per_j=0",
        clock,
    )
    sim.set_state(remote=True, power_a=100, arm="ready")
    wire = simwire.wire(name)
    for k in range(251):
        t = k * 0.2  # 5 Hz, slower than the 15 Hz table maximum at 100 %
        clock.sleep_until(t)
        wire.drive(True, t)
        wire.drive(False, t)
    edges = sim.triggers
    assert sum(e.delivered for e in edges) == 250
    assert not edges[-1].delivered
    assert "63000 J" in edges[-1].reason


def test_magpro_fires_through_its_ttl_trigger_in(magpro: Rig) -> None:
    magpro.driver.open()
    magpro.driver.attach_trigger(magpro.line)
    _ready(magpro, 40)
    due = magpro.clock.now() + 0.25
    receipt = magpro.driver.fire(scheduled_s=due)
    assert receipt.actual_s == due
    assert [(p.time, p.intensity, p.via) for p in magpro.sim.pulses] == [(due, 40, "trigger")]


def test_magpro_driver_waits_out_the_rate_gap_before_a_triggered_pulse(magpro: Rig) -> None:
    """The MagPro ignores a trigger sooner than its rate allows (B7); the driver waits
    instead of journaling a pulse that was never delivered."""
    magpro.driver.open()
    magpro.driver.attach_trigger(magpro.line)
    _ready(magpro, 40)
    first = magpro.driver.fire()
    second = magpro.driver.fire(scheduled_s=first.actual_s)  # far too soon
    assert second.actual_s > first.actual_s
    assert all(e.delivered for e in magpro.sim.triggers)
    assert len(magpro.sim.pulses) == 2


def test_attach_needs_an_open_line_and_a_disarmed_unit(rapid: Rig) -> None:
    closed = open_trigger(f"sim://{rapid.wire}", clock=rapid.clock)
    closed.close()
    with pytest.raises(StateError, match="not open"):
        rapid.driver.attach_trigger(closed)
    rapid.driver.open()
    _ready(rapid, 30)
    with pytest.raises(StateError, match="change the trigger"):
        rapid.driver.attach_trigger(rapid.line)


def test_close_closes_the_attached_line(rapid: Rig) -> None:
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    rapid.driver.close()
    assert not rapid.line.is_open
    assert simwire.wire(rapid.wire).level is False


def test_a_closed_attached_line_makes_fire_refuse_without_falling_back_to_serial(
    rapid: Rig,
) -> None:
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    _ready(rapid, 30)
    rapid.line.close()
    with pytest.raises(StateError, match=r"trigger line .* is not open"):
        rapid.driver.fire()
    assert rapid.sim.pulses == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("magstim-200?trigger=sim://x", "no trigger input documented"),
        ("magstim-bistim?trigger=sim://x", "no trigger input documented"),
        ("magstim-rapid2?trigger=serial-rts:///dev/ttyS0", "trigger must be sim://NAME"),
        ("magpro-x100?trigger=sim://bad name", "use 1-64 letters"),
    ],
)
def test_bad_trigger_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        simulators.create_simulator(spec, VirtualClock())


def _slow_link(mocker: MockerFixture, rig: Rig, seconds: float) -> None:
    """Every status read takes `seconds` of the virtual clock (a 9600-baud round trip)."""
    original = rig.driver._do_status

    def slow() -> Any:
        status = original()
        rig.clock.advance(seconds)
        return status

    mocker.patch.object(rig.driver, "_do_status", side_effect=slow)


def test_the_ready_check_runs_one_status_read_ahead_so_pulses_leave_on_time(
    rapid: Rig, mocker: MockerFixture
) -> None:
    """Super Rapid² Plus at 30 %: ready 9 ms after a pulse (A9: 100 Hz); a 10 ms status
    read made 10 ms ahead of a pulse due 20 ms after the last finds it ready."""
    rapid.driver.open()
    rapid.driver.attach_trigger(rapid.line)
    _ready(rapid, 30)
    _slow_link(mocker, rapid, 0.010)
    learn = rapid.driver.fire(scheduled_s=rapid.clock.now() + 0.1)
    assert learn.late_s == pytest.approx(0.010)  # the first check learns the read's length
    start = learn.actual_s + 0.2
    times = [start + k * 0.02 for k in range(3)]  # one theta burst
    receipts = [rapid.driver.fire(scheduled_s=t) for t in times]
    assert [r.actual_s for r in receipts] == times  # checked 10 ms ahead: on time
    assert [p.time for p in rapid.sim.pulses[1:]] == times


def test_a_unit_still_recharging_at_the_early_check_is_asked_again_at_the_pulse_time(
    standard_rapid: Rig, mocker: MockerFixture
) -> None:
    """A standard Rapid² at 60 % is ready 36 ms after a pulse (A9: 25 Hz); a pulse due
    40 ms later is checked at 30 ms (recharging), again at 40 ms (ready) and leaves one
    status read late, delivered."""
    rig = standard_rapid
    rig.driver.open()
    rig.driver.attach_trigger(rig.line)
    _ready(rig, 60)
    first = rig.driver.fire(scheduled_s=rig.clock.now() + 0.1)
    _slow_link(mocker, rig, 0.010)
    rig.driver.fire(scheduled_s=first.actual_s + 0.05)  # learns the lead; on time
    second = rig.sim.pulses[-1].time
    receipt = rig.driver.fire(scheduled_s=second + 0.04)
    assert receipt.late_s == pytest.approx(0.010)
    assert [e.delivered for e in rig.sim.triggers] == [True, True, True]
    with pytest.raises(StateError, match="cannot fire"):
        rig.driver.fire(scheduled_s=receipt.actual_s + 0.02)  # 20 ms: still recharging
    assert len(rig.sim.triggers) == 3  # the refused pulse sent no edge
