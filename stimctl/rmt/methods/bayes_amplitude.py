"""Amplitude-aware Bayesian threshold estimation (issue 19 item 1; ADR 0017).

The posterior is a grid over (threshold T, curve shape k): T in steps of 0.25 % MSO from
15 % MSO below the lowest allowed intensity to 15 above the cap (flat prior), k one of
the prior sample of the published Goetz 2019 population (`goetz_prior`, equal weights).
Each pulse's MEP amplitude enters through P(amplitude bin | x - T, k), so a 300 µV MEP
says more than "a response" and a 60 µV one says the pulse was near threshold. A yes/no
reading (visible twitch) enters as P(MEP >= criterion), i.e. the method degrades to a
Bayesian binary one.

Next intensity: the whole % MSO within the limits that maximises, for the first
`OPENING_PULSES`, the expected information (mutual information) between the next reading
and T, the shape marginalised; after that, the expected posterior mass of T within the
best +-2 % MSO window after the reading (one step ahead on the score itself; ADR 0034).

Stop: the 90 % credible interval of T is at most `ci_width` % MSO wide (after
`min_pulses`), or the pulse cap (then the estimate is reported as in ML-PEST's
fixed budget), or the posterior puts >= 99 % of T above the cap or below the lowest
intensity (no threshold in range).

The estimate is the centre of the `WINDOW` % MSO wide window holding the most posterior
mass of T: the Bayes rule for the score a threshold is judged by ("within +-2 % MSO of the
truth"), ADR 0034. On a near-normal posterior it is the median; on a skewed one it moves
towards the mode.

An optional `ThresholdPrior` (a normal prior on T, e.g. around the subject's previous
recorded threshold) replaces the flat prior on T; it is off unless asked for, because a
threshold from another day, device or coil can mislead (ADR 0034).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stimctl.errors import ConfigError
from stimctl.rmt.methods.base import HuntLimits, ThresholdMethod
from stimctl.rmt.methods.goetz_prior import (
    R_STEP,
    FloatArray,
    LikelihoodTables,
    likelihood_tables,
)
from stimctl.rmt.readings import Criterion, MepReading
from stimctl.rmt.result import Outcome

T_MARGIN = 15.0  # % MSO the threshold grid extends beyond the allowed intensities
EDGE_PROBABILITY = 0.99  # posterior share beyond a limit that ends the hunt there
DESIGN_ROWS = 48  # threshold rows used to score candidates (blocks beyond that)
DESIGN_CANDIDATES = 16  # candidate intensities scored per pulse (thinned beyond that)
DESIGN_SHAPES = 32  # most probable shapes used to score candidates
SUPPORT_TAIL = 1e-4  # posterior mass left out of the design on each side

WINDOW = 4.0  # % MSO: the estimate maximises the posterior mass within +-WINDOW / 2
OPENING_PULSES = 3  # pulses placed for information before placing for the window (ADR 0034)

_FIRST_PROPOSAL: dict[tuple[HuntLimits, float], int] = {}


@dataclass(frozen=True)
class ThresholdPrior:
    """A normal prior on T: `centre` % MSO with standard deviation `sd` % MSO."""

    centre: float
    sd: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.centre) and 0 < self.centre <= 100):
            raise ConfigError(
                f"threshold prior centre must be in (0, 100] % MSO, got {self.centre!r}"
            )
        if not (math.isfinite(self.sd) and 0.5 <= self.sd <= 50):
            raise ConfigError(f"threshold prior SD must be 0.5-50 % MSO, got {self.sd!r}")


def _quantile(grid: FloatArray, cdf: FloatArray, q: float) -> float:
    """Linear interpolation of a grid CDF (cdf[i] = P(T <= grid[i]))."""
    return float(np.interp(q, cdf, grid))


def window_centre(grid: FloatArray, mass: FloatArray, width: float = WINDOW) -> float:
    """The centre of the `width` wide window holding the most of `mass` (point masses on
    the evenly spaced `grid`, each standing for its cell). Centres are grid points; the
    cells at the window's two ends count half. Ties go to the middle of the tied run
    (a flat posterior gives its middle, not its edge)."""
    step = float(grid[1] - grid[0])
    half = round(width / 2 / step)
    kernel = np.ones(2 * half + 1)
    kernel[0] = kernel[-1] = 0.5
    held = np.convolve(mass, kernel, mode="same")
    best = np.flatnonzero(held >= held.max() - 1e-12 * max(float(held.max()), 1e-300))
    # the longest run of consecutive best centres, then its middle
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    run = max(runs, key=len)
    return float(grid[run[len(run) // 2]])


class BayesAmplitude(ThresholdMethod):
    name = "bayes-amplitude"

    def __init__(
        self,
        *,
        ci_width: float | None = 3.0,
        min_pulses: int = 5,
        limits: HuntLimits | None = None,
        criterion: Criterion | None = None,
        tables: LikelihoodTables | None = None,
        prior: ThresholdPrior | None = None,
    ) -> None:
        super().__init__(limits or HuntLimits(max_pulses=20), criterion)
        if ci_width is not None and not (math.isfinite(ci_width) and ci_width > 0):
            raise ConfigError(f"credible-interval width must be > 0 % MSO, got {ci_width!r}")
        if min_pulses < 1:
            raise ConfigError(f"min_pulses must be >= 1, got {min_pulses}")
        self.ci_width = ci_width
        self.min_pulses = min_pulses
        self._shared_tables = tables is None
        self.tables = tables or likelihood_tables(self.criterion.threshold_uv)
        lo = self.limits.min_intensity - T_MARGIN
        hi = self.limits.max_intensity + T_MARGIN
        self.t_grid: FloatArray = np.linspace(lo, hi, round((hi - lo) / R_STEP) + 1)
        shapes = len(self.tables.shapes)
        self.prior = prior
        self._log_post = np.full((len(self.t_grid), shapes), -math.log(shapes))
        if prior is not None:
            self._log_post += (-0.5 * ((self.t_grid - prior.centre) / prior.sd) ** 2)[:, None]
        self._amplitude_seen = False
        self.history: list[tuple[float, float, float]] = []
        """(estimate, 5 %, 95 %) of T after each pulse, for the console and the bench."""
        self._summarise()
        self.next_intensity()  # the first design is the slow one; do it before any pulse

    # -- posterior -------------------------------------------------------------------

    def _posterior(self) -> FloatArray:
        post = np.exp(self._log_post - self._log_post.max())
        return np.asarray(post / post.sum(), dtype=np.float64)

    def _summarise(self) -> None:
        post = self._posterior()
        self._marginal = post.sum(axis=1)
        # cdf at the upper edge of each cell, so quantiles fall between grid points
        self._cdf = np.cumsum(self._marginal)
        self._lo = _quantile(self.t_grid, self._cdf, 0.05)
        self._hi = _quantile(self.t_grid, self._cdf, 0.95)
        self._estimate = window_centre(self.t_grid, self._marginal)
        cap, floor = self.limits.max_intensity, self.limits.min_intensity
        self._p_above = float(self._marginal[self.t_grid > cap].sum())
        self._p_below = float(self._marginal[self.t_grid < floor].sum())

    def _add(self, intensity: int, reading: MepReading, response: bool) -> None:
        rows = self.tables.r_index(intensity - self.t_grid)
        if reading.amplitude_uv is not None:
            self._amplitude_seen = True
            column = self.tables.log_bins[rows, :, self.tables.bin_of(reading.amplitude_uv)]
        else:
            column = (self.tables.log_yes if response else self.tables.log_no)[rows, :]
        self._log_post += column
        self._log_post -= self._log_post.max()  # keeps the exponent finite
        self._summarise()

    @property
    def interval(self) -> tuple[float, float]:
        """The running 90 % credible interval of the threshold, % MSO."""
        return (round(self._lo, 2), round(self._hi, 2))

    # -- design ----------------------------------------------------------------------

    def _support(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Threshold rows for the design: (T values, P(T), P(shape | T)), at most
        DESIGN_ROWS of them (neighbouring rows pooled into blocks when there are more)."""
        post = self._posterior()
        lo = int(np.searchsorted(self._cdf, SUPPORT_TAIL))
        hi = int(np.searchsorted(self._cdf, 1.0 - SUPPORT_TAIL)) + 1
        post = post[lo:hi]
        t = self.t_grid[lo:hi]
        block = max(1, math.ceil(len(t) / DESIGN_ROWS))
        if block > 1:
            cut = len(t) - len(t) % block
            pooled = post[:cut].reshape(-1, block, post.shape[1]).sum(axis=1)
            centres = t[:cut].reshape(-1, block).mean(axis=1)
            if cut < len(t):
                pooled = np.vstack([pooled, post[cut:].sum(axis=0)])
                centres = np.append(centres, t[cut:].mean())
            post, t = pooled, centres
        p_t = post.sum(axis=1)
        keep = p_t > 0
        post, t, p_t = post[keep], t[keep], p_t[keep]
        return t, p_t / p_t.sum(), post / p_t[:, None]

    def _candidates(self, t: FloatArray) -> list[int]:
        floor, cap = self.limits.min_intensity, self.limits.max_intensity
        lo = max(floor, math.floor(float(t[0])) - 5)
        hi = min(cap, math.ceil(float(t[-1])) + 10)
        if lo > hi:  # all the threshold mass is beyond one limit: test at that limit
            return [cap] if lo > cap else [floor]
        step = max(1, math.ceil((hi - lo + 1) / DESIGN_CANDIDATES))
        values = list(range(lo, hi + 1, step))
        # always score the intensities nearest the current estimate
        centre = min(max(math.floor(self._estimate + 0.5), lo), hi)
        return sorted({*values, centre, min(centre + 1, hi), max(centre - 1, lo)})

    def _outcomes(self, candidates: list[int]) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The design's view of the next reading at each candidate: (T rows, P(T),
        P(reading | x, T) [x, t, outcome]) with the shape marginalised given T."""
        t, p_t, p_shape = self._support()
        # The design scores with the DESIGN_SHAPES most probable shapes (the posterior
        # update uses all of them): the rest carry little mass and cost time.
        weight = p_t @ p_shape
        order = np.argsort(weight)[::-1][:DESIGN_SHAPES]
        shapes = np.zeros(len(weight), dtype=bool)
        shapes[order[weight[order] > 1e-4 * weight[order[0]]]] = True
        p_shape = p_shape[:, shapes]
        p_shape /= p_shape.sum(axis=1, keepdims=True)
        x = np.asarray(candidates, dtype=np.float64)
        rows = self.tables.r_index(x[:, None] - t[None, :])  # [x, t]
        weights = p_shape.astype(np.float32)[None, :, None, :]  # [1, t, 1, k]
        if self._amplitude_seen or not self.trace:
            table = self.tables.bins[:, shapes, :]  # [r, k, bin]
            outcome = np.matmul(weights, table[rows])[:, :, 0, :]  # [x, t, bin]
        else:  # yes/no readings so far: two outcomes
            p_yes = np.exp(self.tables.log_yes[:, shapes]).astype(np.float32)[rows]
            yes = np.matmul(weights, p_yes[..., None])[:, :, 0, 0]
            outcome = np.stack([yes, 1.0 - yes], axis=2)
        return t, p_t, outcome.astype(np.float64)

    def expected_information(self, candidates: list[int]) -> FloatArray:
        """Mutual information (nats) between the next reading and T at each candidate."""
        _t, p_t, outcome = self._outcomes(candidates)
        marginal = np.einsum("t,xtb->xb", p_t, outcome)
        with np.errstate(divide="ignore", invalid="ignore"):
            h_cond = -np.einsum(
                "t,xtb->x", p_t, np.where(outcome > 0, outcome * np.log(outcome), 0)
            )
            h_marg = -np.where(marginal > 0, marginal * np.log(marginal), 0).sum(axis=1)
        return np.asarray(h_marg - h_cond, dtype=np.float64)

    def expected_window_mass(self, candidates: list[int]) -> FloatArray:
        """The expected posterior mass of T within the best `WINDOW` after the next
        reading at each candidate: the score itself ("within +-2 % MSO"), one step ahead.
        Sum over readings b of max over centres c of P(T in window(c), b)."""
        t, p_t, outcome = self._outcomes(candidates)
        joint = p_t[None, :, None] * outcome  # P(T, reading | x): [x, t, b]
        inside = (np.abs(t[:, None] - t[None, :]) <= WINDOW / 2).astype(np.float64)  # [c, t]
        held = np.einsum("ct,xtb->xcb", inside, joint)
        return np.asarray(held.max(axis=1).sum(axis=1), dtype=np.float64)

    def _propose(self) -> int:
        if not self.trace and self._shared_tables and self.prior is None:
            # with the shared prior the first pulse depends only on the limits: decide once
            key = (self.limits, self.criterion.threshold_uv)
            if key not in _FIRST_PROPOSAL:
                _FIRST_PROPOSAL[key] = self._design()
            return _FIRST_PROPOSAL[key]
        return self._design()

    def _design(self) -> int:
        candidates = self._candidates(self._support()[0])
        if len(candidates) == 1:
            return candidates[0]
        # The opening finds the threshold's region (information); after it, each pulse
        # goes where it is expected to leave the most posterior mass within +-2 % MSO.
        if self.pulses < OPENING_PULSES:
            gain = self.expected_information(candidates)
        else:
            gain = self.expected_window_mass(candidates)
        # ties (flat scores) go to the lower intensity
        return candidates[int(np.argmax(gain >= gain.max() - 1e-12))]

    # -- the state machine -----------------------------------------------------------

    def _running_estimate(self) -> float | None:
        return round(self._estimate, 2)

    def _criterion_detail(self) -> str:
        detail = (
            f"; 50 % point, centre of the {WINDOW:g} % MSO window of most posterior mass of a"
            " Bayesian amplitude model (Goetz 2019 prior"
        )
        if self.prior is not None:
            detail += (
                f"; threshold prior N({self.prior.centre:g}, {self.prior.sd:g}) % MSO"
                " from an earlier measurement"
            )
        return detail + ")"

    def _result_interval(self) -> tuple[float, float] | None:
        return self.interval if self._rmt is not None else None

    def _update(self, intensity: int, response: bool) -> None:
        self._observe(intensity, MepReading(visible=response), response)

    def _observe(self, intensity: int, reading: MepReading, response: bool) -> None:
        self._add(intensity, reading, response)
        self.history.append((self._estimate, self._lo, self._hi))
        cap, floor = self.limits.max_intensity, self.limits.min_intensity
        if self._p_above >= EDGE_PROBABILITY:
            self._finish(
                Outcome.INTENSITY_CAP,
                None,
                f"the threshold is above the intensity cap {cap} % MSO with posterior "
                f"probability {self._p_above:.3f}",
            )
        elif self._p_below >= EDGE_PROBABILITY:
            self._finish(
                Outcome.FLOOR,
                None,
                f"the threshold is below the lowest allowed intensity {floor} % MSO with "
                f"posterior probability {self._p_below:.3f}",
            )
        elif (
            self.ci_width is not None
            and self.pulses + 1 >= self.min_pulses
            and self._hi - self._lo <= self.ci_width
            and floor <= self._lo
            and self._hi <= cap
            and floor <= self._estimate <= cap
        ):
            self._finish(
                Outcome.CONVERGED,
                round(self._estimate, 2),
                f"90 % credible interval {self._lo:.1f}-{self._hi:.1f} % MSO, within "
                f"{self.ci_width:g} % MSO",
            )

    def _on_pulse_cap(self) -> None:
        cap, floor = self.limits.max_intensity, self.limits.min_intensity
        budget = self.limits.max_pulses
        # an estimate outside the limits is reported as that limit's outcome, never clipped
        if self._p_above > 0.5 or self._estimate > cap:
            self._finish(
                Outcome.INTENSITY_CAP,
                None,
                f"after {budget} pulses the threshold estimate {self._estimate:.1f} % MSO is "
                f"above the intensity cap {cap} % MSO or more likely above it than below "
                f"(posterior {self._p_above:.2f})",
            )
        elif self._p_below > 0.5 or self._estimate < floor:
            self._finish(
                Outcome.FLOOR,
                None,
                f"after {budget} pulses the threshold estimate {self._estimate:.1f} % MSO is "
                f"below the lowest allowed intensity {floor} % MSO or more likely below it "
                f"than above (posterior {self._p_below:.2f})",
            )
        else:
            self._finish(
                Outcome.CONVERGED,
                round(self._estimate, 2),
                f"pulse budget of {budget} used; 90 % credible interval "
                f"{self._lo:.1f}-{self._hi:.1f} % MSO",
            )
