"""The driver contract on one simulated timeline, over `stimsim://` AND a real pty.

Every registered driver talks to its byte-level simulator. Over `stimsim://` the driver,
its keep-alive thread and the simulator share a `SimulatedClock`, so 30 s of simulated
time pass in milliseconds while the keep-alive still fires on its own schedule. Over the
pty the simulator sits behind a real pseudo-terminal (a `PtyServer` thread) and the
driver goes through the kernel's tty layer exactly as with hardware; bytes then travel in
real time, so both sides share a `ScaledClock` running 10 times faster than real time.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import serial

from stimctl.clock import Clock, ScaledClock, SimulatedClock
from stimctl.errors import ConnectionLost, DeviceTimeout, SafetyViolation
from stimctl.hal import ArmState, Stimulator, Transport, load_driver

simulators = pytest.importorskip("simulators")

UNLOCK = "abcd-0123abcd-5e"
DRIVERS: dict[str, tuple[str, dict[str, Any]]] = {
    "magstim-200": ("magstim-200", {}),
    "magstim-bistim": ("magstim-bistim", {}),
    "magstim-rapid2": (
        f"magstim-rapid2?version=10.0&unlock_code={UNLOCK}",
        {"unlock_code": UNLOCK},
    ),
    "magpro": ("magpro-x100", {}),
}
KEEPALIVE_DRIVERS = ("magstim-200", "magstim-bistim", "magstim-rapid2")
_names = itertools.count()


@dataclass
class Rig:
    driver: Stimulator
    sim: Any
    clock: Clock
    cut: Any  # pulls the cable (stimsim) or closes the pty's far end

    def ready(self, percent: int = 30) -> None:
        self.driver.set_intensity(percent)
        self.driver.arm()
        self.driver.wait_ready(timeout_s=5.0, poll_s=0.1)


@pytest.fixture(
    params=list(itertools.product(sorted(DRIVERS), ["stimsim", "pty"])),
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    name, link = request.param
    spec, options = DRIVERS[name]
    clock: Clock = SimulatedClock() if link == "stimsim" else ScaledClock(10.0)
    participate = getattr(clock, "participate", None)
    if participate is not None:
        participate()  # this test thread owns the simulated timeline
    stop = threading.Event()
    server = thread = None
    if link == "stimsim":
        simulators.install_url_handler()
        clock_name = f"timeline-{next(_names)}"
        simulators.register_clock(clock_name, clock)
        sep = "&" if "?" in spec else "?"
        port = serial.serial_for_url(f"stimsim://{spec}{sep}clock={clock_name}", timeout=0.02)
        sim = port.simulator
        transport = Transport(port)
        cut = sim.pull_cable
    else:
        sim = simulators.create_simulator(spec, clock=clock)
        server = simulators.PtyServer(sim)
        thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
        thread.start()
        transport = None

        def cut() -> None:  # the far end goes away: stop serving, close the master
            stop.set()
            thread.join(timeout=5)  # type: ignore[union-attr]
            server.close()  # type: ignore[union-attr]

    url = "stimsim://" if link == "stimsim" else server.path  # type: ignore[union-attr]
    driver = load_driver(name)(url, clock=clock, transport=transport, **options)
    driver.open()
    try:
        yield Rig(driver, sim, clock, cut)
    finally:
        with contextlib.suppress(Exception):  # the pty may be closed under it already
            driver.close()
        detach = getattr(clock, "detach", None)
        if detach is not None:
            detach()
        stop.set()
        if thread is not None:
            thread.join(timeout=5)
        if server is not None:
            server.close()


def test_disarmed_after_open(rig: Rig) -> None:
    assert rig.driver.status().arm_state is ArmState.STANDBY
    assert not rig.sim.armed


def test_arm_and_disarm_are_idempotent(rig: Rig) -> None:
    rig.ready()
    rig.driver.arm()  # a second arm is a no-op, not a device conflict
    assert rig.sim.armed
    rig.driver.disarm()
    rig.driver.disarm()
    assert not rig.sim.armed


def test_out_of_range_is_rejected_not_clipped(rig: Rig) -> None:
    rig.driver.set_intensity(20)
    with pytest.raises(SafetyViolation):
        rig.driver.set_intensity(101)
    rig.driver.arm()
    rig.driver.wait_ready(timeout_s=5.0, poll_s=0.1)
    rig.driver.fire()
    rig.clock.sleep(0.1)  # the discharge follows the trigger
    rig.driver.status()
    # Pulse for pulse: a BiStim's output B stays silent in a single-pulse plan (issue 12).
    assert [(p.channel, p.intensity) for p in rig.sim.pulses] == [("A", 20)]


def test_safe_stop_from_ready_and_close_disarm(rig: Rig) -> None:
    rig.ready()
    assert rig.driver.safe_stop().disarmed
    assert not rig.sim.armed
    rig.ready()
    rig.driver.close()
    assert not rig.sim.armed


def test_keepalive_holds_control_for_30_simulated_seconds(rig: Rig) -> None:
    if rig.driver.capabilities().keepalive_period_s is None:
        pytest.skip("this protocol has no keep-alive (MagPro, device-protocols B7)")
    rig.ready()
    rig.clock.sleep(30.0)  # the keep-alive thread runs on the same simulated timeline
    assert rig.sim.armed, "the device lost its keep-alive and disarmed"
    assert rig.driver.status().remote_control


def test_keepalive_loss_disarms_the_device(rig: Rig) -> None:
    if rig.driver.capabilities().keepalive_period_s is None:
        pytest.skip("this protocol has no keep-alive (MagPro, device-protocols B7)")
    rig.ready()
    rig.driver.keepalive.stop()  # type: ignore[attr-defined]  # the host dies
    rig.clock.sleep(2.0)  # the armed keep-alive lapse is 1 s (device-protocols A6)
    rig.sim.poll()
    assert not rig.sim.armed
    assert not rig.sim.state.remote


def test_a_pulled_cable_becomes_connection_lost_or_silence(rig: Rig) -> None:
    rig.cut()
    with pytest.raises((ConnectionLost, DeviceTimeout)):
        rig.driver.status()
