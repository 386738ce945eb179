"""Recruitment (input-output) curves: MEPs at randomised intensities relative to the RMT.

A plan gives levels in % of the resting motor threshold (default 90-150 % in steps of
10) and pulses per level; every pulse's intensity is a whole % MSO. A level above the
intensity cap refuses the plan (never clipped: the curve would silently lose its top).
The pulses are delivered in a random order (seeded), paced like the threshold hunts
(`runner.PulseInterval`, at least 4 s), and a Boltzmann sigmoid is fitted to the
amplitudes, as labs report it (Devanne 1997; Möller 2009):

    MEP(x) = plateau / (1 + exp((S50 - x) / k))

S50: intensity of the half-maximal MEP; k: its slope parameter (% MSO); the steepest
slope, plateau / (4 k), in µV per % MSO. Least squares on the amplitudes (scipy).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from stimctl.clock import Clock
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.rmt.methods.base import ABSOLUTE_MAX_PERCENT_MSO
from stimctl.rmt.readings import MepSource
from stimctl.rmt.runner import PulseInterval

DEFAULT_LEVELS = (90, 100, 110, 120, 130, 140, 150)  # % RMT
MAX_ADAPTIVE_PULSES = 300


@dataclass(frozen=True)
class CurvePlan:
    rmt: float
    levels_percent_rmt: tuple[int, ...] = DEFAULT_LEVELS
    per_level: int = 5
    max_intensity: int = ABSOLUTE_MAX_PERCENT_MSO
    adaptive_pulses: int | None = None
    """None: every level `per_level` times, randomised. N: N pulses, each level once and
    the rest placed adaptively between the lowest and highest level (curve_adaptive)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rmt) and 0 < self.rmt <= ABSOLUTE_MAX_PERCENT_MSO):
            raise ConfigError(f"RMT must be in (0, 100] % MSO, got {self.rmt!r}")
        if not self.levels_percent_rmt or any(v <= 0 for v in self.levels_percent_rmt):
            raise ConfigError("curve levels must be positive % of RMT")
        if self.per_level < 1:
            raise ConfigError(f"pulses per level must be >= 1, got {self.per_level}")
        if not 0 < self.max_intensity <= ABSOLUTE_MAX_PERCENT_MSO:
            raise ConfigError(f"intensity cap must be in 1..100 % MSO, got {self.max_intensity}")
        if self.adaptive_pulses is not None and not (
            len(self.levels_percent_rmt) <= self.adaptive_pulses <= MAX_ADAPTIVE_PULSES
        ):
            raise ConfigError(
                f"an adaptive curve needs {len(self.levels_percent_rmt)}-{MAX_ADAPTIVE_PULSES} "
                f"pulses (one a level first), got {self.adaptive_pulses}"
            )
        over = [
            f"{level} % RMT = {x} % MSO"
            for level, x in zip(self.levels_percent_rmt, self.intensities(), strict=True)
            if x > self.max_intensity
        ]
        if over:
            raise ConfigError(
                f"curve levels above the intensity cap {self.max_intensity} % MSO: "
                f"{', '.join(over)}; lower the levels or the cap deliberately"
            )

    def intensities(self) -> list[int]:
        """Whole % MSO of each level, rounded half up."""
        return [math.floor(level * self.rmt / 100.0 + 0.5) for level in self.levels_percent_rmt]

    def schedule(self, rng: random.Random) -> list[int]:
        """Every pulse of the curve, in random order."""
        pulses = [x for x in self.intensities() for _ in range(self.per_level)]
        rng.shuffle(pulses)
        return pulses


@dataclass(frozen=True)
class CurvePulse:
    index: int
    intensity: int
    amplitude_uv: float
    time_s: float


@dataclass(frozen=True)
class BoltzmannFit:
    plateau_uv: float
    s50: float
    k: float
    rms_residual_uv: float

    @property
    def max_slope_uv_per_percent(self) -> float:
        return self.plateau_uv / (4.0 * self.k)

    def mep_uv(self, intensity: float) -> float:
        return float(self.plateau_uv / (1.0 + math.exp((self.s50 - intensity) / self.k)))


def _boltzmann(x: Any, plateau: float, s50: float, k: float) -> Any:
    return plateau / (1.0 + np.exp(np.clip((s50 - x) / k, -50.0, 50.0)))


def fit_boltzmann(intensities: Sequence[float], amplitudes_uv: Sequence[float]) -> BoltzmannFit:
    """Least-squares Boltzmann fit; ConfigError when the data cannot pin it down."""
    x = np.asarray(intensities, dtype=np.float64)
    y = np.asarray(amplitudes_uv, dtype=np.float64)
    if len(set(x.tolist())) < 3:
        raise ConfigError("a Boltzmann fit needs MEPs at three or more intensities")
    start = (float(y.max()), float(np.median(x)), max(1.0, float(np.ptp(x)) / 8.0))
    try:
        params, _ = curve_fit(
            _boltzmann,
            x,
            y,
            p0=start,
            bounds=([1e-3, float(x.min()) - 50.0, 0.1], [1e6, float(x.max()) + 50.0, 50.0]),
            maxfev=20_000,
        )
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"the Boltzmann fit did not converge: {exc}") from None
    plateau, s50, k = (float(v) for v in params)
    residual = float(np.sqrt(np.mean((y - _boltzmann(x, plateau, s50, k)) ** 2)))
    return BoltzmannFit(plateau, s50, k, residual)


@dataclass(frozen=True)
class CurveResult:
    plan: CurvePlan
    pulses: tuple[CurvePulse, ...]
    fit: BoltzmannFit

    def as_dict(self) -> dict[str, Any]:
        return {
            "rmt": self.plan.rmt,
            "levels_percent_rmt": list(self.plan.levels_percent_rmt),
            "per_level": self.plan.per_level,
            "max_intensity": self.plan.max_intensity,
            "adaptive_pulses": self.plan.adaptive_pulses,
            "fit": {
                "plateau_uv": round(self.fit.plateau_uv, 1),
                "s50": round(self.fit.s50, 2),
                "k": round(self.fit.k, 3),
                "max_slope_uv_per_percent_mso": round(self.fit.max_slope_uv_per_percent, 1),
                "rms_residual_uv": round(self.fit.rms_residual_uv, 1),
            },
            "pulses": [
                {
                    "index": p.index,
                    "intensity": p.intensity,
                    "amplitude_uv": p.amplitude_uv,
                    "time_s": p.time_s,
                }
                for p in self.pulses
            ],
        }


def run_curve(
    plan: CurvePlan,
    source: MepSource,
    *,
    clock: Clock,
    stimulate: Callable[[int], None] | None = None,
    interval: PulseInterval | None = None,
    rng: random.Random | None = None,
    on_pulse: Callable[[CurvePulse], None] | None = None,
) -> CurveResult:
    """Deliver the plan's pulses in random order (or placed adaptively), paced, and fit
    the curve."""
    interval = interval or PulseInterval()
    rng = rng or random.Random()
    pulses: list[CurvePulse] = []
    seen: list[tuple[int, float]] = []
    schedule: Iterable[int] = plan.schedule(rng)
    if plan.adaptive_pulses is not None:
        from stimctl.rmt.curve_adaptive import adaptive_intensities

        schedule = adaptive_intensities(plan.intensities(), plan.adaptive_pulses, rng, seen)
    last: float | None = None
    for index, intensity in enumerate(schedule, start=1):
        if intensity > plan.max_intensity:  # the plan refuses this; checked again here
            raise SafetyViolation(
                f"refusing {intensity} % MSO above the cap {plan.max_intensity}",
                rule="rmt-intensity-cap",
            )
        if last is not None:
            clock.sleep_until(last + interval.draw(rng))
        if stimulate is not None:
            stimulate(intensity)
        last = clock.now()
        reading = source.response(intensity)
        if reading.amplitude_uv is None:
            raise ConfigError("a recruitment curve needs MEP amplitudes in µV, not yes/no")
        pulse = CurvePulse(index, intensity, reading.amplitude_uv, last)
        pulses.append(pulse)
        seen.append((intensity, reading.amplitude_uv))
        if on_pulse is not None:
            on_pulse(pulse)
    fit = fit_boltzmann([p.intensity for p in pulses], [p.amplitude_uv for p in pulses])
    return CurveResult(plan, tuple(pulses), fit)
