"""One pulse's motor response as data: shared by threshold hunting (`stimctl.rmt`) and the
virtual subject (`simulators/virtual_subject.py`), which may import only stimctl's base
modules (clock, errors, this one), not `stimctl.rmt` (issue 14 item 5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from stimctl.errors import ConfigError

Measurement = Literal["emg", "visual"]

# The IFCN criterion for a resting MEP: at least 50 µV peak-to-peak (safety-limits 4.1).
RESTING_MEP_CRITERION_UV = 50.0


@dataclass(frozen=True)
class MepReading:
    """What one pulse produced: an amplitude in µV, a visible yes/no, or both."""

    amplitude_uv: float | None = None
    visible: bool | None = None

    def __post_init__(self) -> None:
        if self.amplitude_uv is None and self.visible is None:
            raise ConfigError("an MEP reading needs an amplitude or a visible yes/no")
        if self.amplitude_uv is not None and (
            not math.isfinite(self.amplitude_uv) or self.amplitude_uv < 0
        ):
            raise ConfigError(
                f"an MEP amplitude must be a finite number >= 0 µV, got {self.amplitude_uv!r}"
            )

    @property
    def measurement(self) -> Measurement:
        return "emg" if self.amplitude_uv is not None else "visual"


class TrialRejected(Exception):
    """The pulse was delivered but its EMG cannot be judged (background EMG before the
    pulse): the threshold method must not see it and the intensity is tried again.

    Not a `StimctlError`: it never ends a hunt by itself. `reason` says why, in one line;
    `trace` is the source's record of the trial (for the console), or None.
    """

    def __init__(self, reason: str, trace: object | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.trace = trace
