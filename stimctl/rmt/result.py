"""What a threshold hunt produces: one record per pulse and the final result."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stimctl.rmt.readings import Measurement


class Outcome(StrEnum):
    """Why a hunt stopped."""

    CONVERGED = "converged"
    INTENSITY_CAP = "intensity-cap"  # no threshold at or below the intensity cap
    FLOOR = "floor"  # responses even at the lowest allowed intensity
    PULSE_CAP = "pulse-cap"  # the pulse budget ran out before the stop rule was met


@dataclass(frozen=True)
class PulseRecord:
    """One delivered pulse: where, what came back, and what the method made of it."""

    index: int
    intensity: int
    amplitude_uv: float | None
    visible: bool | None
    response: bool
    time_s: float | None
    estimate: float | None
    """The method's running threshold estimate after this pulse (None: none yet)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "intensity": self.intensity,
            "amplitude_uv": self.amplitude_uv,
            "visible": self.visible,
            "response": self.response,
            "time_s": self.time_s,
            "estimate": self.estimate,
        }


@dataclass(frozen=True)
class HuntResult:
    """The outcome of one threshold hunt.

    `rmt` is None when the hunt stopped at a cap without a threshold; `reason` then says
    which cap and what was seen.
    """

    rmt: float | None
    method: str
    criterion: str
    measurement: Measurement
    outcome: Outcome
    reason: str
    trace: tuple[PulseRecord, ...]
    interval: tuple[float, float] | None = None
    """90 % credible interval of `rmt` (% MSO) from methods that have one, else None."""

    @property
    def pulses(self) -> int:
        return len(self.trace)

    @property
    def converged(self) -> bool:
        return self.outcome is Outcome.CONVERGED

    @property
    def max_intensity_used(self) -> int:
        return max((p.intensity for p in self.trace), default=0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rmt": self.rmt,
            "pulses": self.pulses,
            "method": self.method,
            "criterion": self.criterion,
            "measurement": self.measurement,
            "outcome": self.outcome.value,
            "converged": self.converged,
            "reason": self.reason,
            "interval_90": None if self.interval is None else list(self.interval),
            "trace": [p.as_dict() for p in self.trace],
        }
