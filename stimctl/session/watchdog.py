"""The watchdog's judgement of one device reading (pure; the engine does the polling).

Silence is link loss: no good reading for longer than the heartbeat timeout faults the
session (DEV-3). Coil temperature at the stop limit faults (DEV-1); at the warning limit
the next train waits (DEV-2). A removed coil, a device error code, or a device that
disarmed itself while the session expects it armed fault too (DEV-4 discrepancy).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stimctl.hal import ArmState, DeviceStatus


class Priority(StrEnum):
    """IEC 60601-1-8 alarm priorities."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Action(StrEnum):
    NONE = "none"
    HOLD = "hold"  # do not start the next train yet
    FAULT = "fault"  # disarm and latch


@dataclass(frozen=True)
class Alarm:
    code: str
    priority: Priority
    message: str
    action: Action


@dataclass(frozen=True)
class WatchdogLimits:
    heartbeat_timeout_s: float = 1.0
    coil_stop_c: float = 40.0
    coil_warn_c: float = 38.0


def assess_status(
    status: DeviceStatus, limits: WatchdogLimits, *, expect_armed: bool
) -> list[Alarm]:
    alarms: list[Alarm] = []
    temperature = status.coil_temperature_c
    if temperature is not None and temperature >= limits.coil_stop_c:
        alarms.append(
            Alarm(
                "DEV-1",
                Priority.HIGH,
                f"coil {temperature:.1f} °C at or above the {limits.coil_stop_c:g} °C stop limit",
                Action.FAULT,
            )
        )
    elif temperature is not None and temperature >= limits.coil_warn_c:
        alarms.append(
            Alarm(
                "DEV-2",
                Priority.MEDIUM,
                f"coil {temperature:.1f} °C: next train held until below {limits.coil_warn_c:g} °C",
                Action.HOLD,
            )
        )
    if status.coil_present is False:
        alarms.append(Alarm("COIL", Priority.HIGH, "coil disconnected", Action.FAULT))
    if status.error_code:
        alarms.append(
            Alarm("DEVERR", Priority.HIGH, f"device error {status.error_code}", Action.FAULT)
        )
    if expect_armed and status.arm_state is ArmState.STANDBY:
        alarms.append(
            Alarm(
                "DEV-4",
                Priority.HIGH,
                "the device disarmed itself while the session expected it armed",
                Action.FAULT,
            )
        )
    if not status.remote_control:
        alarms.append(
            Alarm("REMOTE", Priority.HIGH, "the device lost remote control", Action.FAULT)
        )
    return alarms


def link_loss(silent_for_s: float, limits: WatchdogLimits) -> Alarm | None:
    if silent_for_s <= limits.heartbeat_timeout_s:
        return None
    return Alarm(
        "DEV-3",
        Priority.HIGH,
        f"no reply from the device for {silent_for_s:.2f} s (link lost)",
        Action.FAULT,
    )
