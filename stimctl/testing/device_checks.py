"""Driver conformance checks in library form, safe on real hardware at low output.

The same contract as tests/drivers/test_conformance.py, written against any `Target`: the
simulator of a device profile, or a connected device. Nothing here fires on hardware: the
device is armed at `LOW_OUTPUT_PERCENT_MSO` and disarmed again. Each check opens its own
connection, so one failure cannot leak an armed device into the next check, and the
connection safe-stops and closes the driver whatever happened.

A check returns the detail of a pass, or raises `CheckFailed` / `CheckSkipped`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stimctl.errors import SafetyViolation, StimctlError
from stimctl.testing.results import CheckResult, failed, passed, skipped

if TYPE_CHECKING:
    from stimctl.testing.target import Connection, Target

LOW_OUTPUT_PERCENT_MSO = 10
# A Magstim disarms itself 1 s after the last armed keep-alive (device-protocols A6):
# holding the device armed for three times that proves the driver keeps it alive...
KEEPALIVE_HOLD_S = 3.0
# ...and waiting this long after stopping the keep-alive proves the device's own watchdog.
KEEPALIVE_LAPSE_WAIT_S = 2.5
# E-stop: from the request to the device confirming standby. The bench (bench/bench_session)
# measures the bytes reaching the device in < 5 ms; confirmation is one more status round
# trip at 9600 baud. The target leaves room for a slow USB-serial adapter.
ESTOP_TARGET_S = 0.25
COIL_TEMPERATURE_RANGE_C = (0.0, 80.0)


class CheckFailed(Exception):
    """The device or driver did not behave; the message is the line the operator reads."""


class CheckSkipped(Exception):
    """The check does not apply here (the message says why)."""


Check = Callable[["Connection"], str]


def check_disarmed_after_open(conn: Connection) -> str:
    from stimctl.hal import ArmState

    status = conn.driver.status()
    if status.arm_state is not ArmState.STANDBY:
        raise CheckFailed(f"the driver reads {status.arm_state.value} right after open")
    if conn.device_armed():
        raise CheckFailed("the simulator is armed although the driver reads standby")
    return "standby after open"


def check_arm_and_disarm(conn: Connection) -> str:
    from stimctl.hal import ArmState

    _ready_at_low_output(conn)
    again = conn.driver.arm()
    if again.arm_state is not ArmState.READY:
        raise CheckFailed(f"a second arm left the device {again.arm_state.value}, not ready")
    for attempt in ("first", "second"):
        status = conn.driver.disarm()
        if status.arm_state is not ArmState.STANDBY:
            raise CheckFailed(
                f"the device is still armed after the {attempt} disarm "
                f"(it reads {status.arm_state.value})"
            )
        if conn.device_armed():
            raise CheckFailed(
                f"the device is still armed after the {attempt} disarm "
                "(it answered the disarm command but did not disarm)"
            )
    return f"ready at {LOW_OUTPUT_PERCENT_MSO}% MSO, standby after disarm (twice)"


def check_out_of_range_refused(conn: Connection) -> str:
    from stimctl.hal import ArmState

    low, high = conn.driver.capabilities().output_range_pct
    for bad in (high + 1, low - 1, 50.5):
        try:
            conn.driver.set_intensity(bad)
        except SafetyViolation:
            continue
        raise CheckFailed(f"intensity {bad}% MSO was accepted (range {low}-{high}%)")
    status = conn.driver.status()
    if status.arm_state is not ArmState.STANDBY:
        raise CheckFailed(f"the device reads {status.arm_state.value} after refused settings")
    return f"{high + 1}, {low - 1} and 50.5% MSO refused, none clipped"


def check_keepalive_held(conn: Connection) -> str:
    from stimctl.hal import ArmState

    caps = conn.driver.capabilities()
    if caps.keepalive_period_s is None:
        raise CheckSkipped(f"{caps.model} has no keep-alive (device-protocols B7)")
    _ready_at_low_output(conn)
    conn.wait(KEEPALIVE_HOLD_S)
    status = conn.driver.status()
    if status.arm_state is not ArmState.READY:
        raise CheckFailed(
            f"armed and left alone for {KEEPALIVE_HOLD_S:g} s, the device dropped to "
            f"{status.arm_state.value}: the driver's keep-alive did not hold it"
        )
    conn.driver.disarm()
    return f"still ready after {KEEPALIVE_HOLD_S:g} s armed"


def check_keepalive_lapse_disarms(conn: Connection) -> str:
    from stimctl.hal import ArmState, KeepAlive

    caps = conn.driver.capabilities()
    if caps.keepalive_period_s is None:
        raise CheckSkipped(f"{caps.model} has no keep-alive (device-protocols B7)")
    if not conn.simulated:
        raise CheckSkipped("simulator only: on hardware it would leave the device to disarm itself")
    keepalive = getattr(conn.driver, "keepalive", None)
    if not isinstance(keepalive, KeepAlive):
        raise CheckSkipped("the driver has no keep-alive thread to stop")
    _ready_at_low_output(conn)
    keepalive.stop()
    conn.wait(KEEPALIVE_LAPSE_WAIT_S)
    if conn.device_armed():
        raise CheckFailed(
            f"the device was still armed {KEEPALIVE_LAPSE_WAIT_S:g} s after the host's "
            "keep-alive stopped: its own watchdog did not disarm it (device-protocols A6)"
        )
    status = conn.driver.status()
    if status.arm_state is not ArmState.STANDBY:
        raise CheckFailed(f"after the keep-alive lapse the device reads {status.arm_state.value}")
    return f"standby {KEEPALIVE_LAPSE_WAIT_S:g} s after the keep-alive stopped"


def check_estop_disarms(conn: Connection) -> str:
    _ready_at_low_output(conn)
    start = time.perf_counter()
    report = conn.driver.safe_stop()
    elapsed = time.perf_counter() - start
    if not report.disarmed:
        raise CheckFailed(f"the e-stop did not disarm the device: {report.error}")
    if conn.device_armed():
        raise CheckFailed("the driver confirmed the e-stop but the device is still armed")
    if elapsed > ESTOP_TARGET_S:
        raise CheckFailed(
            f"disarm confirmed after {elapsed * 1000:.0f} ms, target {ESTOP_TARGET_S * 1000:.0f} ms"
        )
    return f"disarm confirmed in {elapsed * 1000:.1f} ms (target {ESTOP_TARGET_S * 1000:.0f} ms)"


def check_coil_temperature(conn: Connection) -> str:
    celsius = conn.driver.status().coil_temperature_c
    if celsius is None:
        if not conn.driver.capabilities().has_coil_temperature:
            raise CheckSkipped(f"{conn.driver.capabilities().model} reports no coil temperature")
        raise CheckFailed("the device claims coil temperature but none could be read")
    low, high = COIL_TEMPERATURE_RANGE_C
    if not low <= celsius <= high:
        raise CheckFailed(f"coil temperature {celsius} °C is not plausible ({low}-{high} °C)")
    return f"{celsius:.1f} °C"


def check_fire_one_pulse(conn: Connection) -> str:
    """Simulator only: one trigger gives exactly one pulse, at the set intensity."""
    if not conn.simulated:
        raise CheckSkipped("simulator only: the self-test never fires a real device")
    _ready_at_low_output(conn)
    conn.driver.fire()
    conn.wait(0.2)
    conn.driver.status()
    # Every pulse counts, on every output: a BiStim² whose output B still has power fires
    # a second, unplanned pulse (issue 12 item 1).
    pulses = [(p.channel, p.intensity) for p in conn.simulator.pulses]
    if pulses != [("A", LOW_OUTPUT_PERCENT_MSO)]:
        raise CheckFailed(
            f"one trigger at {LOW_OUTPUT_PERCENT_MSO}% MSO on output A delivered "
            f"{pulses} (output, % MSO)"
        )
    return f"one pulse at {LOW_OUTPUT_PERCENT_MSO}% MSO"


DEVICE_CHECKS: tuple[tuple[str, Check], ...] = (
    ("disarmed after open", check_disarmed_after_open),
    ("arm and disarm", check_arm_and_disarm),
    ("out-of-range intensity refused", check_out_of_range_refused),
    ("keep-alive holds an armed device", check_keepalive_held),
    ("keep-alive lapse disarms", check_keepalive_lapse_disarms),
    ("e-stop disarms", check_estop_disarms),
    ("coil temperature readable", check_coil_temperature),
    ("one trigger, one pulse", check_fire_one_pulse),
)

DEVICE_CHECK_NAMES: tuple[str, ...] = tuple(name for name, _ in DEVICE_CHECKS)


@dataclass
class DeviceRun:
    """The checks' results for one target, and who answered on the port."""

    target: Target
    identity: dict[str, Any]
    results: list[CheckResult]


def run_device_checks(target: Target) -> DeviceRun:
    """Every check in `DEVICE_CHECKS` against `target`, each on a fresh connection.

    A device that cannot be opened at all gives one failed line ("connect") and the
    checks are not run, rather than the same error once per check.
    """
    group = f"device {target.label}"
    identity: dict[str, Any] = {}
    results = []
    for name, check in DEVICE_CHECKS:
        connected = False
        try:
            with target.connect() as conn:
                connected = True
                if not identity:
                    identity = _identity(conn)
                detail = check(conn)
        except CheckSkipped as exc:
            results.append(skipped(group, name, str(exc)))
        except CheckFailed as exc:
            results.append(failed(group, name, str(exc)))
        except StimctlError as exc:
            if not connected and not identity:
                why = f"could not open the device: {type(exc).__name__}: {exc}"
                results.append(failed(group, "connect", why))
                break
            results.append(failed(group, name, f"{type(exc).__name__}: {exc}"))
        else:
            results.append(passed(group, name, detail))
    return DeviceRun(target, identity, results)


def _ready_at_low_output(conn: Connection) -> None:
    from stimctl.hal import ArmState

    conn.driver.set_intensity(LOW_OUTPUT_PERCENT_MSO)
    conn.driver.arm()
    status = conn.driver.wait_ready(timeout_s=5.0, poll_s=0.2)
    if status.arm_state is not ArmState.READY:
        raise CheckFailed(f"the device did not become ready ({status.arm_state.value})")


def _identity(conn: Connection) -> dict[str, Any]:
    try:
        identity = conn.driver.identify()
    except StimctlError as exc:
        return {"error": str(exc)}
    return {key: value for key, value in identity.__dict__.items() if value is not None}
