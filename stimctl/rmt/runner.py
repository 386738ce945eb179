"""Run a threshold method to the end: pace the pulses, fire them, read the responses.

The pacing is the only place time enters: the inter-pulse interval is a minimum plus a
random jitter (so the subject cannot anticipate the pulse), slept on an injected Clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from stimctl.clock import Clock
from stimctl.errors import ConfigError, SafetyViolation, StateError
from stimctl.mep import TrialRejected
from stimctl.rmt.methods.base import ThresholdMethod
from stimctl.rmt.readings import MepSource
from stimctl.rmt.result import HuntResult, PulseRecord

# Threshold pulses must be at least 4-5 s apart (issue 7); we refuse anything below 4 s.
MIN_ALLOWED_INTERVAL_S = 4.0

MAX_REJECTED_IN_A_ROW = 5
"""Trials rejected for background EMG in a row before the hunt stops: the muscle is not
at rest, and more pulses would only add exposure (issue 18)."""


@dataclass(frozen=True)
class PulseInterval:
    """Time from one pulse to the next: `minimum_s` plus uniform jitter in [0, jitter_s]."""

    minimum_s: float = 5.0
    jitter_s: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.minimum_s) and self.minimum_s >= MIN_ALLOWED_INTERVAL_S):
            raise ConfigError(
                f"inter-pulse interval must be >= {MIN_ALLOWED_INTERVAL_S:g} s, "
                f"got {self.minimum_s!r}"
            )
        if not (math.isfinite(self.jitter_s) and self.jitter_s >= 0):
            raise ConfigError(f"inter-pulse jitter must be >= 0 s, got {self.jitter_s!r}")

    def draw(self, rng: random.Random) -> float:
        return self.minimum_s + rng.uniform(0.0, self.jitter_s)


def hunt(
    method: ThresholdMethod,
    source: MepSource,
    *,
    clock: Clock,
    stimulate: Callable[[int], None] | None = None,
    interval: PulseInterval | None = None,
    rng: random.Random | None = None,
    on_pulse: Callable[[PulseRecord], None] | None = None,
    on_rejected: Callable[[int, str], None] | None = None,
) -> HuntResult:
    """Drive `method` to its stop rule against `source`.

    `stimulate(intensity)` fires one real pulse (a driver, wired by the session layer);
    without it the source alone stands for the pulse (virtual subject, file replay, or an
    operator firing by hand). `on_pulse` sees every pulse record as it happens (console).

    A source may reject a trial (`TrialRejected`: background EMG before the pulse): the
    method does not see it, `on_rejected(intensity, reason)` does, and the same intensity
    is tried again after the usual interval; `MAX_REJECTED_IN_A_ROW` rejections in a row
    stop the hunt (`StateError`).
    """
    interval = interval or PulseInterval()
    rng = rng or random.Random()
    last_pulse: float | None = None
    rejected_in_a_row = 0
    while not method.done:
        intensity = method.next_intensity()
        # Checked again here, independent of the method: the runner is the last gate.
        if intensity > method.limits.max_intensity:
            raise SafetyViolation(
                f"refusing {intensity} % MSO above the cap {method.limits.max_intensity}",
                rule="rmt-intensity-cap",
            )
        if last_pulse is not None:
            clock.sleep_until(last_pulse + interval.draw(rng))
        if stimulate is not None:
            stimulate(intensity)
        # Taken once the pulse has gone, so a slow driver can only lengthen the next gap.
        last_pulse = clock.now()
        try:
            reading = source.response(intensity)
        except TrialRejected as rejected:
            rejected_in_a_row += 1
            if on_rejected is not None:
                on_rejected(intensity, rejected.reason)
            if rejected_in_a_row >= MAX_REJECTED_IN_A_ROW:
                raise StateError(
                    f"{rejected_in_a_row} trials in a row rejected (last: {rejected.reason}): "
                    "the muscle is not at rest; relax it and hunt again"
                ) from None
            continue
        rejected_in_a_row = 0
        record = method.observe(reading, time_s=last_pulse)
        if on_pulse is not None:
            on_pulse(record)
    return method.result()
