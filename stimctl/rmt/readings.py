"""One pulse's response, and the interface every source of responses implements.

A response is either an MEP amplitude (EMG, µV peak-to-peak) or an operator's yes/no for a
visible twitch. Threshold methods only need "was this a response?", which `Criterion`
decides; the amplitude is kept for the trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

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


@dataclass(frozen=True)
class Criterion:
    """Decides whether a reading counts as a motor response.

    An amplitude, when present, wins over the visible flag: EMG is the reference method.
    """

    threshold_uv: float = RESTING_MEP_CRITERION_UV

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold_uv) and self.threshold_uv > 0):
            raise ConfigError(f"MEP criterion must be > 0 µV, got {self.threshold_uv!r}")

    def is_response(self, reading: MepReading) -> bool:
        if reading.amplitude_uv is not None:
            return reading.amplitude_uv >= self.threshold_uv
        return bool(reading.visible)

    def describe(self, measurement: Measurement) -> str:
        if measurement == "visual":
            return "visible twitch"
        return f"MEP >= {self.threshold_uv:g} uV peak-to-peak"


@runtime_checkable
class MepSource(Protocol):
    """Anything that can say what one pulse at an intensity produced.

    Implemented by the operator prompt, the amplitude-file replay (stimctl.rmt.sources) and,
    structurally, by the virtual subject in `simulators/virtual_subject.py`, which stimctl
    never imports (ARCHITECTURE rule 1).
    """

    def response(self, intensity_percent_mso: int) -> MepReading: ...
