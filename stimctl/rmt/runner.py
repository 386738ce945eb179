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
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.rmt.methods.base import ThresholdMethod
from stimctl.rmt.readings import MepSource
from stimctl.rmt.result import HuntResult, PulseRecord

# Threshold pulses must be at least 4-5 s apart (issue 7); we refuse anything below 4 s.
MIN_ALLOWED_INTERVAL_S = 4.0


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
) -> HuntResult:
    """Drive `method` to its stop rule against `source`.

    `stimulate(intensity)` fires one real pulse (a driver, wired by the session layer);
    without it the source alone stands for the pulse (virtual subject, file replay, or an
    operator firing by hand). `on_pulse` sees every pulse record as it happens (console).
    """
    interval = interval or PulseInterval()
    rng = rng or random.Random()
    last_pulse: float | None = None
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
        record = method.observe(source.response(intensity), time_s=last_pulse)
        if on_pulse is not None:
            on_pulse(record)
    return method.result()
