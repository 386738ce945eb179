"""One pulse's response, and the interface every source of responses implements.

A response is either an MEP amplitude (EMG, µV peak-to-peak) or an operator's yes/no for a
visible twitch. Threshold methods only need "was this a response?", which `Criterion`
decides; the amplitude is kept for the trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from stimctl.errors import ConfigError

# Moved to the base layer so the virtual subject need not import stimctl.rmt (issue 14).
from stimctl.mep import RESTING_MEP_CRITERION_UV, Measurement, MepReading

__all__ = ["RESTING_MEP_CRITERION_UV", "Criterion", "Measurement", "MepReading", "MepSource"]


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
