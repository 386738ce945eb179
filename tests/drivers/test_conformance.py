"""One contract for every registered driver, run against its byte-level simulator over
`stimsim://` (style-anchors 3.3 #8). Skipped as a whole if `simulators` is absent.

Each driver and its simulator share one `VirtualClock`, so charging, keep-alive lapses
and trains happen when the test moves time, not on the wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import serial
from pytest_mock import MockerFixture

from stimctl.clock import VirtualClock
from stimctl.errors import ConnectionLost, ProtocolError, SafetyViolation
from stimctl.hal import ArmState, Stimulator, Transport, available_drivers, load_driver

simulators = pytest.importorskip("simulators")

UNLOCK = "abcd-0123abcd-5e"
# registered driver -> (simulator spec, driver options). A driver registered without a
# simulator fails `test_every_registered_driver_has_a_simulator`: no silent exemptions.
SIMULATED: dict[str, tuple[str, dict[str, Any]]] = {
    "magstim-200": ("magstim-200", {}),
    "magstim-bistim": ("magstim-bistim", {}),
    "magstim-rapid2": (
        f"magstim-rapid2?version=10.0&unlock_code={UNLOCK}",
        {"unlock_code": UNLOCK},
    ),
    "magpro": ("magpro-x100", {}),
}
_names = itertools.count()


@dataclass
class Rig:
    driver: Stimulator
    port: Any  # the stimsim pyserial port; `.simulator` is the device
    clock: VirtualClock

    @property
    def sim(self) -> Any:
        return self.port.simulator

    def device_may_be_armed(self) -> bool:
        """Ask the simulator itself (not the driver) whether its output stage is live."""
        if hasattr(self.sim, "instrument_status"):
            return bool(self.sim.instrument_status() & 0x06)  # armed or ready bits (A3)
        return bool(self.sim.status_byte() & 0x10)  # enabled bit (B3)

    def ready(self, percent: int = 30) -> None:
        self.driver.set_intensity(percent)
        self.driver.arm()
        self.driver.wait_ready(timeout_s=5.0, poll_s=0.2)


@pytest.fixture(params=sorted(SIMULATED))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    simulators.install_url_handler()
    spec, options = SIMULATED[request.param]
    clock = VirtualClock()
    clock_name = f"conformance-{next(_names)}"
    simulators.register_clock(clock_name, clock)
    sep = "&" if "?" in spec else "?"
    port = serial.serial_for_url(f"stimsim://{spec}{sep}clock={clock_name}", timeout=0.02)
    driver = load_driver(request.param)(
        "stimsim://", clock=clock, transport=Transport(port), **options
    )
    try:
        yield Rig(driver, port, clock)
    finally:
        driver.close()
        simulators.unregister_clock(clock_name)


def test_every_registered_driver_has_a_simulator() -> None:
    assert set(available_drivers()) == set(SIMULATED)


def test_disarmed_after_open(rig: Rig) -> None:
    status = rig.driver.open()
    assert status.arm_state is ArmState.STANDBY
    assert not rig.device_may_be_armed()


def test_arm_and_disarm_are_idempotent(rig: Rig) -> None:
    rig.driver.open()
    rig.ready()
    assert rig.driver.arm().arm_state is ArmState.READY
    assert rig.driver.disarm().arm_state is ArmState.STANDBY
    assert rig.driver.disarm().arm_state is ArmState.STANDBY
    assert not rig.device_may_be_armed()


@pytest.mark.parametrize("state", ["standby", "arming", "ready", "fired"])
def test_safe_stop_from_every_state(rig: Rig, state: str) -> None:
    rig.driver.open()
    if state == "arming":
        rig.driver.set_intensity(30)
        rig.driver.arm()
    elif state in ("ready", "fired"):
        rig.ready()
    if state == "fired":
        rig.driver.fire()
    report = rig.driver.safe_stop()
    assert report.disarmed, report.error
    assert not rig.device_may_be_armed()


def test_safe_stop_before_open_and_after_close_never_raises(rig: Rig) -> None:
    assert rig.driver.safe_stop().disarmed
    rig.driver.open()
    rig.driver.close()
    assert rig.driver.safe_stop().disarmed


def test_out_of_range_intensity_is_rejected_not_clipped(rig: Rig, mocker: MockerFixture) -> None:
    rig.driver.open()
    high = rig.driver.capabilities().output_range_pct[1]
    write = mocker.spy(rig.port, "write")
    for bad in (high + 1, -1, 50.5):
        with pytest.raises(SafetyViolation):
            rig.driver.set_intensity(bad)
    assert write.call_count == 0


def test_fire_delivers_exactly_one_pulse_at_the_set_intensity(rig: Rig) -> None:
    rig.driver.open()
    rig.ready(42)
    rig.driver.fire()
    rig.clock.advance(0.1)
    rig.driver.status()
    # Pulse for pulse: a BiStim's output B stays silent in a single-pulse plan (issue 12).
    assert [(p.channel, p.intensity) for p in rig.sim.pulses] == [("A", 42)]


def test_close_disarms(rig: Rig) -> None:
    rig.driver.open()
    rig.ready()
    assert rig.device_may_be_armed()
    rig.driver.close()
    assert not rig.device_may_be_armed()


def test_pulled_cable_becomes_connection_lost(rig: Rig) -> None:
    rig.driver.open()
    rig.sim.pull_cable()
    with pytest.raises(ConnectionLost):
        rig.driver.status()
    assert not rig.driver.safe_stop().disarmed


def test_garbage_on_the_line_becomes_protocol_error(rig: Rig) -> None:
    rig.driver.open()
    rig.sim.faults.corrupt_rate = 1.0  # one flipped bit in every byte the device sends
    with pytest.raises(ProtocolError):
        rig.driver.status()


def test_an_over_temperature_disarm_reports_the_hot_coil_in_the_same_status(rig: Rig) -> None:
    # The unit's own cut-off disarms it; the status that shows the disarm must show the
    # cause too, or the session reads a bare self-disarm instead of DEV-1.
    rig.driver.open()
    rig.ready()
    assert rig.driver.status().coil_temperature_c is not None  # a reading is now cached
    rig.sim.set_coil_temperature(41.0)
    status = rig.driver.status()
    assert status.arm_state is ArmState.STANDBY
    assert status.coil_temperature_c is not None and status.coil_temperature_c >= 40.0
