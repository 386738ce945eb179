"""Mills-Nithi two-threshold method (Mills & Nithi 1997; safety-limits 4.1).

Lower threshold: the highest intensity with no response in `trials` (10) consecutive
stimuli. Upper threshold: the lowest intensity with no stimulus *below* the criterion in
10 consecutive stimuli. MT is their mean. "Response" is the same criterion for both
(MEP >= 50 µV, or a visible twitch), so the two thresholds bracket the 5/10 point.

Procedure (ours, chosen to spend few pulses): a level is abandoned at its first
contradicting pulse. Lower phase: descend one step per level that shows any response
until a level gives 10 negatives (if the start itself gives 10 negatives, climb by
`climb_step` first until a response appears). Upper phase: from lower + step, ascend one
step per level that shows any non-response until a level gives 10 responses.
"""

from __future__ import annotations

from typing import Literal

from stimctl.errors import ConfigError
from stimctl.rmt.methods.base import HuntLimits, ThresholdMethod
from stimctl.rmt.readings import Criterion
from stimctl.rmt.result import Outcome

Phase = Literal["lower", "upper"]


class MillsNithi(ThresholdMethod):
    name = "mills-nithi"

    def __init__(
        self,
        start: int,
        *,
        trials: int = 10,
        step: int = 1,
        climb_step: int = 5,
        limits: HuntLimits | None = None,
        criterion: Criterion | None = None,
    ) -> None:
        super().__init__(limits or HuntLimits(max_pulses=250), criterion)
        if trials < 1:
            raise ConfigError(f"trials per level must be >= 1, got {trials}")
        if step < 1 or climb_step < 1:
            raise ConfigError(f"steps must be >= 1 % MSO, got {step} and {climb_step}")
        self.limits.check_start(start)
        self.trials = trials
        self.step = step
        self.climb_step = climb_step
        self._phase: Phase = "lower"
        self._level = start
        self._run = 0  # consecutive pulses at this level agreeing with the phase's test
        self._seen_response = False
        self.lower: int | None = None
        self.upper: int | None = None

    def _criterion_detail(self) -> str:
        return f"; mean of 0 of {self.trials} and {self.trials} of {self.trials} thresholds"

    def _propose(self) -> int:
        return self._level

    def _running_estimate(self) -> float | None:
        if self.lower is not None and self.upper is not None:
            return (self.lower + self.upper) / 2
        return None

    def _move_to(self, level: int) -> None:
        self._level = level
        self._run = 0

    def _update(self, intensity: int, response: bool) -> None:
        if self._phase == "lower":
            self._update_lower(response)
        else:
            self._update_upper(response)

    def _update_lower(self, response: bool) -> None:
        if response:
            self._seen_response = True
            below = self._level - self.step
            if below < self.limits.min_intensity:
                self._finish(
                    Outcome.FLOOR,
                    None,
                    f"responses even at {self._level} % MSO, the lowest allowed intensity: "
                    "no lower threshold above it",
                )
            else:
                self._move_to(below)
            return
        self._run += 1
        if self._run < self.trials:
            return
        if self._seen_response:
            self.lower = self._level
            self._phase = "upper"
            self._start_upper(self._level + self.step)
        elif self._level >= self.limits.max_intensity:
            self._finish(
                Outcome.INTENSITY_CAP,
                None,
                f"no response in {self.trials} pulses at the intensity cap "
                f"{self.limits.max_intensity} % MSO",
            )
        else:
            self._move_to(min(self._level + self.climb_step, self.limits.max_intensity))

    def _start_upper(self, level: int) -> None:
        if level > self.limits.max_intensity:
            self._finish(
                Outcome.INTENSITY_CAP,
                None,
                f"lower threshold {self.lower} % MSO, but no level up to the intensity cap "
                f"{self.limits.max_intensity} % MSO gave {self.trials} of {self.trials}",
            )
        else:
            self._move_to(level)

    def _update_upper(self, response: bool) -> None:
        if not response:
            self._start_upper(self._level + self.step)
            return
        self._run += 1
        if self._run < self.trials:
            return
        assert self.lower is not None
        self.upper = self._level
        self._finish(
            Outcome.CONVERGED,
            (self.lower + self.upper) / 2,
            f"lower threshold {self.lower} % MSO (0 of {self.trials}), upper threshold "
            f"{self.upper} % MSO ({self.trials} of {self.trials})",
        )
