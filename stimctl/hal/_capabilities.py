"""What a stimulator can do and what state it is in: plain, frozen data.

`Capabilities` is what the safety layer and the driver base check values against before a
byte goes out (never clipped, always rejected). `DeviceStatus` is one reading of the
device; `ArmState.UNKNOWN` exists on purpose (style-anchors trap 4.11: "unknown" must not
read as "disarmed").
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from stimctl.errors import ConfigError


class ArmState(enum.Enum):
    """Charge state of the stimulator's output stage."""

    STANDBY = "standby"  # disarmed: cannot fire
    ARMED = "armed"  # charging, not yet ready
    READY = "ready"  # charged; a trigger fires
    UNKNOWN = "unknown"  # not read, unreadable or contradictory: treat as possibly armed


@dataclass(frozen=True)
class Capabilities:
    """Fixed properties of one connected model (or the nominal model before `open`).

    Ranges are inclusive. `keepalive_period_s` is the period the driver keeps while
    disarmed and `keepalive_armed_period_s` while armed; both None when the protocol has
    no keep-alive (MagVenture, device-protocols B7).
    """

    model: str
    output_range_pct: tuple[int, int]
    frequency_range_hz: tuple[float, float]
    device_timed_trains: bool
    keepalive_period_s: float | None
    keepalive_armed_period_s: float | None = None
    outputs: tuple[str, ...] = ("A",)
    max_pulses: int | None = None
    max_train_duration_s: float | None = None
    frequency_step_hz: float = 0.1
    telemetry: frozenset[str] = field(default_factory=frozenset)
    reports_pulses: bool = False
    """The device reports every pulse it delivers (MagPro di/dt messages, B5); the
    driver counts them in `Stimulator.pulses_seen`. Without it a device-timed train's
    count is a bound from the clock and the link (session.pulse_count)."""

    @property
    def has_coil_temperature(self) -> bool:
        return "coil_temperature" in self.telemetry


@dataclass(frozen=True)
class TrainSpec:
    """A repetitive train: `pulses` at `frequency_hz`.

    `duration_s` is required by device-timed trains that take a duration (Magstim Rapid^2,
    device-protocols A8.2); it must agree with pulses / frequency. `trains` and
    `inter_train_interval_s` are for devices that sequence several trains (MagPro, B4
    command 6).
    """

    frequency_hz: float
    pulses: int
    duration_s: float | None = None
    trains: int = 1
    inter_train_interval_s: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.frequency_hz) or self.frequency_hz <= 0:
            raise ConfigError(f"train frequency must be > 0 Hz, got {self.frequency_hz!r}")
        if isinstance(self.pulses, bool) or not isinstance(self.pulses, int) or self.pulses < 1:
            raise ConfigError(f"train pulses must be an integer >= 1, got {self.pulses!r}")
        if self.duration_s is not None and (
            not math.isfinite(self.duration_s) or self.duration_s <= 0
        ):
            raise ConfigError(f"train duration must be > 0 s, got {self.duration_s!r}")
        if self.trains < 1:
            raise ConfigError(f"number of trains must be >= 1, got {self.trains!r}")
        iti = self.inter_train_interval_s
        if iti is not None and (not math.isfinite(iti) or iti < 0):
            raise ConfigError(f"inter-train interval must be >= 0 s, got {iti!r}")


@dataclass(frozen=True)
class DeviceStatus:
    """One reading of the device. `read_at` is the injected clock's time of the reading."""

    arm_state: ArmState
    remote_control: bool
    coil_present: bool | None
    coil_temperature_c: float | None
    error_code: str | None
    read_at: float

    @property
    def may_be_armed(self) -> bool:
        """True unless the device said for certain that it is in standby (fail closed)."""
        return self.arm_state is not ArmState.STANDBY


@dataclass(frozen=True)
class DeviceIdentity:
    """Who answered on the port."""

    vendor: str
    model: str
    software_version: str | None = None
    serial_number: str | None = None


@dataclass(frozen=True)
class SafeStopReport:
    """Outcome of `Stimulator.safe_stop`: it reports, it never raises."""

    disarmed: bool
    error: str | None = None
