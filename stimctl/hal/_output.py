"""What one trigger is planned to deliver, and the device settings that decide it.

A trigger's output depends on more than the intensity of output A: a BiStim² fires its
output B `interval` after A whenever B has power (device-protocols A4 `A`/`C`, TDb086); a
Rapid² left in train mode runs a whole train on one trigger (A8.2); a MagPro's mode,
waveform, current direction and burst setting change what a trigger delivers (B3, B4
command 9). A device keeps these settings across sessions, so whatever an earlier study
left there is delivered unless the host sets and reads back every one of them.

`OutputPlan` is the planned state beyond the intensity. The default is the single-pulse
state: no second output, no paired pulse, no burst, no enhanced power, the waveform and
current direction of the device profile. `Stimulator.arm` applies the plan and reads the
device back before it arms (see `stimctl.hal._driver`); a difference is an
`OutputStateMismatch` and the device is not armed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from stimctl.errors import ConfigError

# One read-back value: whole numbers on the wire are ints, names are strings.
Setting = int | str | bool
OutputState = Mapping[str, Setting]


@dataclass(frozen=True)
class PairedPulse:
    """A second pulse after each trigger: output B at `second_percent` % MSO,
    `interval_ms` after A (BiStim², MagPro Dual). For paired-pulse protocols only."""

    second_percent: int
    interval_ms: float

    def __post_init__(self) -> None:
        if isinstance(self.second_percent, bool) or not isinstance(self.second_percent, int):
            raise ConfigError(
                f"paired pulse: second output must be whole %, got {self.second_percent!r}"
            )
        if not 0 < self.second_percent <= 100:
            raise ConfigError(
                f"paired pulse: second output {self.second_percent} % is outside 1-100 %"
            )
        if not math.isfinite(self.interval_ms) or self.interval_ms <= 0:
            raise ConfigError(f"paired pulse: interval must be > 0 ms, got {self.interval_ms!r}")


@dataclass(frozen=True)
class OutputPlan:
    """The planned output state beyond output A's intensity (default: single pulse).

    - `paired`: None = output B off (0 %), no paired pulse.
    - `burst_pulses`: pulses per trigger of a MagPro Biphasic Burst (2-5); 1 = no burst.
    - `burst_ipi_ms`: interval inside a burst (needed when `burst_pulses` > 1).
    - `waveform`, `current_direction`: MagPro names ("biphasic", "monophasic",
      "half-sine"; "normal", "reverse"); None = what the driver was configured with
      (device profile `driver_options`), else biphasic / normal.
    - `enhanced_power`: Rapid² enhanced power (up to 110 %, A8.4); off by default.
    """

    paired: PairedPulse | None = None
    burst_pulses: int = 1
    burst_ipi_ms: float | None = None
    waveform: str | None = None
    current_direction: str | None = None
    enhanced_power: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.burst_pulses, bool) or self.burst_pulses not in (1, 2, 3, 4, 5):
            raise ConfigError(f"burst pulses must be 1-5, got {self.burst_pulses!r}")
        if self.burst_pulses > 1 and self.burst_ipi_ms is None:
            raise ConfigError("a burst needs burst_ipi_ms")
        if self.burst_pulses > 1 and self.paired is not None:
            raise ConfigError("a plan is either a burst or a paired pulse, not both")

    @property
    def single_pulse(self) -> bool:
        return self.paired is None and self.burst_pulses == 1


SINGLE_PULSE = OutputPlan()


def differences(wanted: OutputState, read: OutputState) -> list[tuple[str, Setting, object]]:
    """(parameter, wanted, read) for every planned parameter the device does not hold.

    A parameter the read-back does not contain at all counts as different (fail closed).
    """
    missing = object()
    found: list[tuple[str, Setting, object]] = []
    for name, value in wanted.items():
        got = read.get(name, missing)
        if got is missing:
            found.append((name, value, "not read back"))
        elif got != value or type(got) is not type(value):
            found.append((name, value, got))
    return found
