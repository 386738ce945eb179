"""Adaptive ML-PEST threshold hunting (Awiszus 2003; MTAT 2.0; safety-limits 4.1).

P(response | x) is modelled as a sigmoid of intensity with a fixed spread and an unknown
threshold t. After every pulse we compute the log-likelihood of each candidate t on a grid
spanning the allowed intensity range and put the next pulse at the maximum-likelihood t
(rounded to the device's 1 % MSO resolution).

Choices, and why:
- Cumulative Gaussian with spread `spread` % MSO (default 5): in the Goetz 2019 model the
  input-side noise alone is about 4.9 % MSO (safety-limits 4.2), which sets the width of
  the real probability-of-response curve.
- Small guess and lapse rates (1 %) keep one surprising pulse from ruling a candidate out.
- Two anchor observations, a response at the cap and none at the lowest intensity, make the
  first estimate the middle of the range instead of an arbitrary edge; they are not pulses.
- Stop rule as in MTAT 2.0 practice: a fixed number of pulses (default 20), optionally
  earlier once the running estimate has stayed within `stable_tolerance` % MSO over the
  last `stable_pulses` pulses.
- Pathological subjects stop early: `edge_pulses` consecutive non-responses at the cap
  (no threshold below the cap) or responses at the lowest intensity (threshold below it).
"""

from __future__ import annotations

import math

from stimctl.errors import ConfigError
from stimctl.rmt.methods.base import HuntLimits, ThresholdMethod
from stimctl.rmt.readings import Criterion
from stimctl.rmt.result import Outcome

_SQRT2 = math.sqrt(2.0)


class MlPest(ThresholdMethod):
    name = "ml-pest"

    def __init__(
        self,
        *,
        spread: float = 5.0,
        resolution: float = 0.1,
        guess_rate: float = 0.01,
        lapse_rate: float = 0.01,
        stable_pulses: int | None = None,
        stable_tolerance: float = 1.0,
        edge_pulses: int = 4,
        limits: HuntLimits | None = None,
        criterion: Criterion | None = None,
    ) -> None:
        super().__init__(limits or HuntLimits(max_pulses=20), criterion)
        if not (math.isfinite(spread) and spread > 0):
            raise ConfigError(f"psychometric spread must be > 0 % MSO, got {spread!r}")
        if not (math.isfinite(resolution) and 0 < resolution <= 1):
            raise ConfigError(f"grid resolution must be in (0, 1] % MSO, got {resolution!r}")
        if not (0 <= guess_rate < 0.5 and 0 <= lapse_rate < 0.5):
            raise ConfigError("guess and lapse rates must be in [0, 0.5)")
        if stable_pulses is not None and stable_pulses < 2:
            raise ConfigError(f"stable_pulses must be >= 2, got {stable_pulses}")
        if not (math.isfinite(stable_tolerance) and stable_tolerance >= 0):
            raise ConfigError(f"stable_tolerance must be >= 0 % MSO, got {stable_tolerance!r}")
        if edge_pulses < 1:
            raise ConfigError(f"edge_pulses must be >= 1, got {edge_pulses}")
        self.spread = spread
        self.guess_rate = guess_rate
        self.lapse_rate = lapse_rate
        self.stable_pulses = stable_pulses
        self.stable_tolerance = stable_tolerance
        self.edge_pulses = edge_pulses
        lo, hi = self.limits.min_intensity, self.limits.max_intensity
        count = max(1, round((hi - lo) / resolution))  # a one-intensity range is one point
        self.grid: tuple[float, ...] = tuple(
            sorted({lo + i * (hi - lo) / count for i in range(count + 1)})
        )
        self._loglik = [0.0] * len(self.grid)
        self._add(float(hi), True)  # anchors: see the module docstring
        self._add(float(lo), False)
        self._ml = self._argmax()
        self._proposals: list[int] = []
        self._estimates: list[float] = []
        self._edge_run = 0
        self._responses = 0
        self._silences = 0

    def p_response(self, intensity: float, threshold: float) -> float:
        """The model's probability of a response at `intensity` for threshold `threshold`."""
        phi = 0.5 * (1.0 + math.erf((intensity - threshold) / (self.spread * _SQRT2)))
        return self.guess_rate + (1.0 - self.guess_rate - self.lapse_rate) * phi

    def _add(self, intensity: float, response: bool) -> None:
        for i, t in enumerate(self.grid):
            p = self.p_response(intensity, t)
            # With zero guess/lapse rates p can be exactly 0 or 1; a tiny floor keeps the
            # log finite (and the ordering of candidates) without changing any decision.
            self._loglik[i] += math.log(max(p if response else 1.0 - p, 1e-300))

    def _argmax(self) -> float:
        best = max(self._loglik)
        # A flat top (possible with zero guess/lapse rates) gives its midpoint, not an edge.
        tied = [t for t, ll in zip(self.grid, self._loglik, strict=True) if ll >= best - 1e-9]
        return (tied[0] + tied[-1]) / 2

    def _running_estimate(self) -> float | None:
        return round(self._ml, 2)

    def _criterion_detail(self) -> str:
        return f"; 50 % point, ML fit with spread {self.spread:g} % MSO"

    def _propose(self) -> int:
        proposal = math.floor(self._ml + 0.5)  # half up, not banker's rounding
        return max(self.limits.min_intensity, min(proposal, self.limits.max_intensity))

    def _update(self, intensity: int, response: bool) -> None:
        self._add(float(intensity), response)
        self._ml = self._argmax()
        self._proposals.append(intensity)
        self._estimates.append(self._ml)
        if response:
            self._responses += 1
        else:
            self._silences += 1
        at_cap_silent = intensity >= self.limits.max_intensity and not response
        at_floor_responding = intensity <= self.limits.min_intensity and response
        self._edge_run = self._edge_run + 1 if (at_cap_silent or at_floor_responding) else 0
        if self._edge_run >= self.edge_pulses:
            if at_cap_silent:
                self._finish(
                    Outcome.INTENSITY_CAP,
                    None,
                    f"no response in {self._edge_run} consecutive pulses at the intensity cap "
                    f"{self.limits.max_intensity} % MSO",
                )
            else:
                self._finish(
                    Outcome.FLOOR,
                    None,
                    f"responses in {self._edge_run} consecutive pulses at "
                    f"{self.limits.min_intensity} % MSO, the lowest allowed intensity",
                )
            return
        n = self.stable_pulses
        if n is None or len(self._estimates) < n or self._responses == 0 or self._silences == 0:
            return
        recent = self._estimates[-n:]
        if max(recent) - min(recent) <= self.stable_tolerance:
            self._finish(
                Outcome.CONVERGED,
                round(self._ml, 2),
                f"estimate stable within {self.stable_tolerance:g} % MSO for {n} pulses",
            )

    def _on_pulse_cap(self) -> None:
        # For ML-PEST the pulse budget *is* the normal stop rule, unless one kind of answer
        # never came: then the estimate is only an edge of the range.
        if self._responses == 0:
            highest = max(self._proposals)
            reached_cap = highest >= self.limits.max_intensity
            self._finish(
                Outcome.INTENSITY_CAP if reached_cap else Outcome.PULSE_CAP,
                None,
                f"no response in {self.limits.max_pulses} pulses up to {highest} % MSO",
            )
            return
        if self._silences == 0:
            lowest = min(self._proposals)
            reached_floor = lowest <= self.limits.min_intensity
            self._finish(
                Outcome.FLOOR if reached_floor else Outcome.PULSE_CAP,
                None,
                f"a response to every one of {self.limits.max_pulses} pulses, down to "
                f"{lowest} % MSO",
            )
            return
        self._finish(
            Outcome.CONVERGED,
            round(self._ml, 2),
            f"fixed budget of {self.limits.max_pulses} pulses used",
        )
