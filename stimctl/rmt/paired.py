"""Paired-pulse measurements: short-interval intracortical inhibition and facilitation.

A subthreshold conditioning stimulus (CS) a few milliseconds before a suprathreshold test
stimulus (TS) through the same coil makes the test MEP smaller at interstimulus intervals
of 1-5 ms (SICI) and larger at about 7-20 ms (ICF) (Kujirai et al. 1993, J Physiol
471:501-519; Rossini et al. 2015, Clin Neurophysiol 126:1071, IFCN). The measure is the
ratio of the mean conditioned MEP to the mean MEP of the test pulse alone, from trials
of both kinds in random order.

Safety rules for the conditioning pulse (`PairedPlan` refuses, never adjusts):

- **Subthreshold.** The CS must be below the motor threshold it is given relative to and
  below the RMT: both paradigms are defined with a subthreshold CS (Kujirai 1993; Rossini
  2015). A suprathreshold first pulse is another paradigm (SICF, LICI) with twice the
  suprathreshold dose, and is refused here.
- **Below the test pulse.** CS < TS in % MSO.
- **Interval inside the paradigm**: SICI 1-5 ms, ICF 7-20 ms (Kujirai 1993, inhibition at
  1-5 ms, facilitation at 10-15 ms; the ranges most labs use).
- **Caps.** Both outputs are whole % MSO at or below the intensity cap; the pair is one
  trigger and the device's single-pulse rate (BiStim² 0.25 Hz in BiStim mode,
  device-protocols A7, safety-limits 6.3) and the hunts' >= 4 s interval both pace it.
- Single- and paired-pulse TMS within these limits is the low-risk end of TMS (Rossi et
  al. 2009 and 2021 consensus; adverse-event rates as for single pulses, Hong et al. 2015,
  safety-limits 2.3 and 6.5).

The driver sets and reads back both outputs and the interval before every arm
(`OutputPlan` with `PairedPulse`, stimctl.hal): a conditioned trial plans output B = TS
`interval` after output A = CS, a test-alone trial plans the single pulse (B off) with A
= TS, so a device that did not take a setting refuses to arm.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from stimctl.clock import Clock
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.rmt.methods.base import ABSOLUTE_MAX_PERCENT_MSO
from stimctl.rmt.readings import MepReading, MepSource
from stimctl.rmt.runner import PulseInterval

Paradigm = Literal["sici", "icf"]
Reference = Literal["rmt", "amt"]


@dataclass(frozen=True)
class ParadigmSpec:
    name: str
    interval_ms: tuple[float, float]
    default_interval_ms: float


PARADIGMS: dict[str, ParadigmSpec] = {
    "sici": ParadigmSpec("short-interval intracortical inhibition", (1.0, 5.0), 3.0),
    "icf": ParadigmSpec("intracortical facilitation", (7.0, 20.0), 12.0),
}


def _whole(percent: float) -> int:
    return math.floor(percent + 0.5)


@dataclass(frozen=True)
class PairedPlan:
    """A paired-pulse block: `trials` conditioned and `trials` test-alone trials.

    `conditioning_percent` is % of `reference` (the RMT or the AMT, % MSO);
    `test_percent_rmt` is % of the RMT. Intensities are whole % MSO, rounded half up.
    """

    paradigm: Paradigm
    rmt: float
    conditioning_percent: float
    test_percent_rmt: float = 120.0
    interval_ms: float | None = None
    trials: int = 15
    reference: Reference = "rmt"
    amt: float | None = None
    max_intensity: int = ABSOLUTE_MAX_PERCENT_MSO

    def __post_init__(self) -> None:
        if self.paradigm not in PARADIGMS:
            raise ConfigError(
                f"paradigm must be one of {', '.join(PARADIGMS)}, got {self.paradigm!r}"
            )
        for name, value in (("RMT", self.rmt), ("AMT", self.amt)):
            if value is not None and not (
                math.isfinite(value) and 0 < value <= ABSOLUTE_MAX_PERCENT_MSO
            ):
                raise ConfigError(f"{name} must be in (0, 100] % MSO, got {value!r}")
        if self.reference == "amt" and self.amt is None:
            raise ConfigError("a conditioning intensity relative to the AMT needs the AMT")
        if not 0 < self.max_intensity <= ABSOLUTE_MAX_PERCENT_MSO:
            raise ConfigError(f"intensity cap must be in 1..100 % MSO, got {self.max_intensity}")
        if not 1 <= self.trials <= 100:
            raise ConfigError(f"trials per condition must be 1-100, got {self.trials}")
        if not (math.isfinite(self.conditioning_percent) and self.conditioning_percent > 0):
            raise ConfigError(
                f"conditioning intensity must be > 0 %, got {self.conditioning_percent!r}"
            )
        if not (math.isfinite(self.test_percent_rmt) and self.test_percent_rmt > 0):
            raise ConfigError(f"test intensity must be > 0 % RMT, got {self.test_percent_rmt!r}")
        low, high = PARADIGMS[self.paradigm].interval_ms
        if not (math.isfinite(self.interval) and low <= self.interval <= high):
            raise SafetyViolation(
                f"{self.paradigm.upper()} interval {self.interval:g} ms is outside "
                f"{low:g}-{high:g} ms (Kujirai 1993)",
                rule="paired-interval",
            )
        self._check_conditioning()

    @property
    def interval(self) -> float:
        return (
            PARADIGMS[self.paradigm].default_interval_ms
            if self.interval_ms is None
            else self.interval_ms
        )

    @property
    def reference_threshold(self) -> float:
        return self.amt if self.reference == "amt" and self.amt is not None else self.rmt

    @property
    def conditioning(self) -> int:
        """Conditioning stimulus, whole % MSO."""
        return _whole(self.conditioning_percent * self.reference_threshold / 100.0)

    @property
    def test(self) -> int:
        """Test stimulus, whole % MSO."""
        return _whole(self.test_percent_rmt * self.rmt / 100.0)

    def _check_conditioning(self) -> None:
        cs, ts = self.conditioning, self.test
        name = self.reference.upper()
        if cs >= self.reference_threshold or self.conditioning_percent >= 100.0:
            raise SafetyViolation(
                f"conditioning pulse {self.conditioning_percent:g} % {name} = {cs} % MSO is not "
                f"below the {name} ({self.reference_threshold:g} % MSO): the conditioning pulse "
                "must be subthreshold (Kujirai 1993; Rossini 2015)",
                rule="paired-conditioning-subthreshold",
            )
        if cs >= self.rmt:
            raise SafetyViolation(
                f"conditioning pulse {cs} % MSO is not below the RMT {self.rmt:g} % MSO",
                rule="paired-conditioning-subthreshold",
            )
        if cs < 1:
            raise ConfigError(f"conditioning pulse rounds to {cs} % MSO; give a larger one")
        if cs >= ts:
            raise SafetyViolation(
                f"conditioning pulse {cs} % MSO is not below the test pulse {ts} % MSO",
                rule="paired-conditioning-below-test",
            )
        if ts > self.max_intensity:
            raise ConfigError(
                f"test pulse {self.test_percent_rmt:g} % RMT = {ts} % MSO is above the intensity "
                f"cap {self.max_intensity} % MSO; lower it or the cap deliberately"
            )

    def schedule(self, rng: random.Random) -> list[Trial]:
        """Every trial, conditioned and test alone, in random order."""
        kinds = [True] * self.trials + [False] * self.trials
        rng.shuffle(kinds)
        return [
            Trial(
                i, conditioned, self.conditioning if conditioned else None, self.test, self.interval
            )
            for i, conditioned in enumerate(kinds, start=1)
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "paradigm": self.paradigm,
            "rmt": self.rmt,
            "amt": self.amt,
            "reference": self.reference,
            "conditioning_percent": self.conditioning_percent,
            "conditioning_percent_mso": self.conditioning,
            "test_percent_rmt": self.test_percent_rmt,
            "test_percent_mso": self.test,
            "interval_ms": self.interval,
            "trials_per_condition": self.trials,
            "max_intensity": self.max_intensity,
        }


@dataclass(frozen=True)
class Trial:
    """One trigger: a conditioned pair (CS on output A, TS on B `interval_ms` later) or
    the test pulse alone (TS on output A, B off)."""

    index: int
    conditioned: bool
    conditioning: int | None
    test: int
    interval_ms: float

    @property
    def first_output(self) -> int:
        """What output A delivers (the first pulse of the trigger)."""
        return self.conditioning if self.conditioning is not None else self.test


@runtime_checkable
class PairedMepSource(Protocol):
    """A source that models the interaction of the two pulses (the virtual subject).

    A real EMG or the operator only needs `MepSource.response`: the muscle itself did the
    interaction, and the MEP after the test pulse is what is read.
    """

    def paired_response(
        self, conditioning_percent_mso: int, test_percent_mso: int, interval_ms: float
    ) -> MepReading: ...


def trial_reading(source: MepSource, trial: Trial) -> MepReading:
    if trial.conditioned and trial.conditioning is not None and isinstance(source, PairedMepSource):
        return source.paired_response(trial.conditioning, trial.test, trial.interval_ms)
    return source.response(trial.test)


@dataclass(frozen=True)
class TrialResult:
    trial: Trial
    amplitude_uv: float
    time_s: float


@dataclass(frozen=True)
class PairedSummary:
    """Conditioned / unconditioned MEP ratio with its spread."""

    ratio: float
    """Mean conditioned MEP / mean test-alone MEP (how labs report SICI and ICF)."""
    ratio_interval: tuple[float, float]
    """95 % bootstrap interval of `ratio` (trials resampled within each condition)."""
    median_ratio: float
    conditioned_mean_uv: float
    conditioned_sd_uv: float
    unconditioned_mean_uv: float
    unconditioned_sd_uv: float
    trials: int


BOOTSTRAP = 2000


def summarise(
    conditioned: Sequence[float], unconditioned: Sequence[float], *, seed: int = 0
) -> PairedSummary:
    """The ratio of means, its bootstrap interval, and each condition's mean and SD."""
    if len(conditioned) < 2 or len(unconditioned) < 2:
        raise ConfigError("a paired-pulse ratio needs at least two trials of each kind")
    c = np.asarray(conditioned, dtype=np.float64)
    u = np.asarray(unconditioned, dtype=np.float64)
    if u.mean() <= 0:
        raise ConfigError("the test pulse alone evoked no MEP; the ratio is undefined")
    rng = np.random.default_rng(seed)
    cs = rng.choice(c, size=(BOOTSTRAP, len(c))).mean(axis=1)
    us = rng.choice(u, size=(BOOTSTRAP, len(u))).mean(axis=1)
    ratios = cs / np.where(us > 0, us, np.nan)
    low, high = np.nanpercentile(ratios, [2.5, 97.5])
    return PairedSummary(
        ratio=float(c.mean() / u.mean()),
        ratio_interval=(float(low), float(high)),
        median_ratio=float(np.median(c) / np.median(u)) if np.median(u) > 0 else math.nan,
        conditioned_mean_uv=float(c.mean()),
        conditioned_sd_uv=float(c.std(ddof=1)),
        unconditioned_mean_uv=float(u.mean()),
        unconditioned_sd_uv=float(u.std(ddof=1)),
        trials=len(c) + len(u),
    )


@dataclass(frozen=True)
class PairedResult:
    plan: PairedPlan
    trials: tuple[TrialResult, ...]
    summary: PairedSummary

    def as_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            **self.plan.as_dict(),
            "ratio": round(s.ratio, 4),
            "ratio_interval_95": [round(s.ratio_interval[0], 4), round(s.ratio_interval[1], 4)],
            "median_ratio": round(s.median_ratio, 4),
            "conditioned_mean_uv": round(s.conditioned_mean_uv, 1),
            "conditioned_sd_uv": round(s.conditioned_sd_uv, 1),
            "unconditioned_mean_uv": round(s.unconditioned_mean_uv, 1),
            "unconditioned_sd_uv": round(s.unconditioned_sd_uv, 1),
            "trials": [
                {
                    "index": t.trial.index,
                    "conditioned": t.trial.conditioned,
                    "conditioning": t.trial.conditioning,
                    "test": t.trial.test,
                    "interval_ms": t.trial.interval_ms,
                    "amplitude_uv": t.amplitude_uv,
                    "time_s": t.time_s,
                }
                for t in self.trials
            ],
        }


def run_paired(
    plan: PairedPlan,
    source: MepSource,
    *,
    clock: Clock,
    fire: Callable[[Trial], None] | None = None,
    interval: PulseInterval | None = None,
    rng: random.Random | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
) -> PairedResult:
    """Deliver the plan's trials in random order, paced, and summarise them.

    `fire(trial)` triggers the stimulator (`paired_device.PairedStimulus`); without it the
    source stands for the pulse (virtual subject, replay, an operator firing by hand).
    """
    interval = interval or PulseInterval()
    rng = rng or random.Random()
    results: list[TrialResult] = []
    last: float | None = None
    for trial in plan.schedule(rng):
        # The last gate before the coil, independent of the plan's own checks.
        if max(trial.first_output, trial.test) > plan.max_intensity:
            raise SafetyViolation(
                f"refusing trial {trial.index}: {max(trial.first_output, trial.test)} % MSO "
                f"above the cap {plan.max_intensity}",
                rule="rmt-intensity-cap",
            )
        if last is not None:
            clock.sleep_until(last + interval.draw(rng))
        if fire is not None:
            fire(trial)
        last = clock.now()
        reading = trial_reading(source, trial)
        if reading.amplitude_uv is None:
            raise ConfigError("a paired-pulse measurement needs MEP amplitudes in µV, not yes/no")
        result = TrialResult(trial, reading.amplitude_uv, last)
        results.append(result)
        if on_trial is not None:
            on_trial(result)
    conditioned = [r.amplitude_uv for r in results if r.trial.conditioned]
    alone = [r.amplitude_uv for r in results if not r.trial.conditioned]
    summary = summarise(conditioned, alone, seed=len(results))
    return PairedResult(plan, tuple(results), summary)
