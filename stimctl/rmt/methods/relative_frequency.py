"""Rossini-Rothwell relative-frequency threshold (safety-limits 4.1).

RMT is the lowest intensity giving a response (MEP >= 50 µV) in at least 5 of 10 trials.
Procedure (IFCN 5/10 as in safety-limits 4.1): start clearly suprathreshold; at each
level give up to 10 pulses; as soon as 5 are positive the level passes and we step down
one step; as soon as more than 5 are negative the level fails and the threshold is the
last level that passed. The 10-of-20 variant is the same with 20 trials per level.

If the start level fails before any level has passed, the start was not suprathreshold:
we step *up* by `climb_step` until a level passes, then step down as usual.
"""

from __future__ import annotations

from stimctl.errors import ConfigError
from stimctl.rmt.methods.base import HuntLimits, ThresholdMethod
from stimctl.rmt.readings import Criterion
from stimctl.rmt.result import Outcome


class RelativeFrequency(ThresholdMethod):
    """`positives` of `trials` per level (5/10 classic, 10/20 variant)."""

    def __init__(
        self,
        start: int,
        *,
        positives: int = 5,
        trials: int = 10,
        step: int = 1,
        climb_step: int = 5,
        limits: HuntLimits | None = None,
        criterion: Criterion | None = None,
    ) -> None:
        # Default budget: 25 levels' worth of full trials (250 pulses for 5/10, 500 for 10/20).
        super().__init__(limits or HuntLimits(max_pulses=25 * trials), criterion)
        if not 0 < positives <= trials:
            raise ConfigError(f"need 0 < positives <= trials, got {positives} of {trials}")
        if step < 1 or climb_step < 1:
            raise ConfigError(f"steps must be >= 1 % MSO, got {step} and {climb_step}")
        self.limits.check_start(start)
        self.positives = positives
        self.trials = trials
        self.step = step
        self.climb_step = climb_step
        self.name = f"rr-{positives}-of-{trials}"
        self._level = start
        self._pos = 0
        self._neg = 0
        self._last_passed: int | None = None

    def _criterion_detail(self) -> str:
        return f" in {self.positives} of {self.trials} trials"

    def _propose(self) -> int:
        return self._level

    def _running_estimate(self) -> float | None:
        return None if self._last_passed is None else float(self._last_passed)

    def _update(self, intensity: int, response: bool) -> None:
        if response:
            self._pos += 1
        else:
            self._neg += 1
        if self._pos >= self.positives:
            self._level_passed()
        elif self._neg > self.trials - self.positives:
            self._level_failed()

    def _move_to(self, level: int) -> None:
        self._level = level
        self._pos = self._neg = 0

    def _level_passed(self) -> None:
        self._last_passed = self._level
        below = self._level - self.step
        if below < self.limits.min_intensity:
            self._finish(
                Outcome.FLOOR,
                None,
                f"{self.positives} of {self.trials} responses even at {self._level} % MSO, "
                f"the lowest allowed intensity: the threshold is at or below it",
            )
        else:
            self._move_to(below)

    def _level_failed(self) -> None:
        if self._last_passed is not None:
            self._finish(
                Outcome.CONVERGED,
                float(self._last_passed),
                f"{self._level} % MSO gave fewer than {self.positives} of {self.trials}; "
                f"{self._last_passed} % MSO was the lowest level that reached it",
            )
            return
        if self._level >= self.limits.max_intensity:
            self._finish(
                Outcome.INTENSITY_CAP,
                None,
                f"fewer than {self.positives} of {self.trials} responses at the intensity "
                f"cap {self.limits.max_intensity} % MSO",
            )
            return
        # Not suprathreshold yet: climb, but never past the cap.
        self._move_to(min(self._level + self.climb_step, self.limits.max_intensity))
