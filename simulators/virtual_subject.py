"""A virtual subject: the Goetz 2019 three-source statistical MEP model (safety-limits 4.2).

Per pulse at stimulus strength x (% MSO):

    MEP_pp = GEV baseline noise + 1e-7 V * 10^(eps_y + p2 / (1 + p3 / max(x - p5 + eps_x, 0)^p4))

eps_x ~ N(0, sigma_x) is input-side noise in % MSO (about 4.9), eps_y ~ N(0, sigma_y) is
output-side noise in decades (about 0.11), and the GEV term is the EMG baseline
(location about 8.3 µV, scale 1.55 µV, shape 0.14). Subject parameters are drawn from the
population distributions of safety-limits 4.2 and redrawn until the noise-free curve is
plausible. Two readings of that section, stated so they can be checked:

- The variances given for p1, p2 and the diagonal of Sigma are variances (their square
  roots reproduce the quoted 5-95 % saturation range); the off-diagonal terms of Sigma are
  not given, so log10(p3), log10(p4), log10(p5) are drawn independently.
- p1 ~ N(-5.08, .) is the log10 of the baseline location in volts: 10^-5.08 V = 8.3 µV,
  the quoted GEV location.

The subject is then shifted along the intensity axis so that its noise-free 50 µV
threshold (eps_x = eps_y = 0, baseline excluded) equals the requested true RMT; the shape of
the curve and the noise in % MSO are kept. Randomness comes only from `random.Random(seed)`.

`VirtualSubject.response` makes it a `stimctl.rmt.MepSource` (structurally; stimctl never
imports this module, it finds `make_source` through the entry-point group
`stimctl.mep_sources`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

from stimctl.errors import ConfigError
from stimctl.rmt.readings import RESTING_MEP_CRITERION_UV, MepReading

# Population parameters (safety-limits 4.2): mean and variance.
P1 = (-5.08, 0.0036)
P2 = (4.53, 0.126)
LOG10_P3 = (3.65, 7.20)
LOG10_P4 = (0.426, 0.0474)
LOG10_P5 = (1.666, 0.0071)
LOG10_SIGMA_X = (0.688, 0.024)  # mean, SD of the between-subject term
LOG10_SIGMA_Y = (-0.965, 0.023)
GEV_SCALE_UV = 1.55
GEV_SHAPE = 0.14

# Plausibility bounds for a drawn subject (safety-limits 4.2).
SPAN_LOW_X, SPAN_HIGH_X = 20.0, 120.0
SPAN_LOW_MAX_UV, SPAN_HIGH_MIN_UV = 30.0, 1000.0
CEILING_UV = 30_000.0
MAX_DRAWS = 10_000

_STD = NormalDist()


@dataclass(frozen=True)
class SubjectParameters:
    """One subject of the three-source model; intensities in % MSO, p5 already shifted."""

    p1: float
    p2: float
    p3: float
    p4: float
    p5: float
    sigma_x: float
    sigma_y: float

    @property
    def baseline_location_uv(self) -> float:
        return math.pow(10.0, self.p1 + 6.0)

    def log10_signal_uv(self, drive: float) -> float:
        """log10 of the noise-free MEP (baseline excluded) at `drive` = x - p5 + eps_x."""
        if drive <= 0:
            return -1.0  # 1e-7 V = 0.1 µV: the model's floor below p5
        log_ratio = math.log(self.p3) - self.p4 * math.log(drive)
        if log_ratio > 700:  # p3 / drive^p4 overflows: the sigmoid is still at its floor
            return -1.0
        return self.p2 / (1.0 + math.exp(log_ratio)) - 1.0

    def noise_free_threshold(self, criterion_uv: float = RESTING_MEP_CRITERION_UV) -> float:
        """The intensity where the noise-free MEP (baseline excluded) reaches `criterion_uv`."""
        level = math.log10(criterion_uv) + 1.0  # in the exponent's units (decades of 0.1 µV)
        if not 0 < level < self.p2:
            raise ConfigError(f"this subject's MEP never crosses {criterion_uv} µV")
        return self.p5 + math.pow(self.p3 / (self.p2 / level - 1.0), 1.0 / self.p4)

    def shifted(self, by: float) -> SubjectParameters:
        return SubjectParameters(
            self.p1, self.p2, self.p3, self.p4, self.p5 + by, self.sigma_x, self.sigma_y
        )


def _plausible(params: SubjectParameters) -> bool:
    low = math.pow(10.0, params.log10_signal_uv(SPAN_LOW_X - params.p5))
    high = math.pow(10.0, params.log10_signal_uv(SPAN_HIGH_X - params.p5))
    ceiling = math.pow(10.0, params.p2 - 1.0)
    return low < SPAN_LOW_MAX_UV and high > SPAN_HIGH_MIN_UV and ceiling <= CEILING_UV


def draw_parameters(rng: random.Random) -> SubjectParameters:
    """Draw one plausible subject from the population (unshifted, as in the source data)."""

    def normal(mean_var: tuple[float, float]) -> float:
        return rng.gauss(mean_var[0], math.sqrt(mean_var[1]))

    for _ in range(MAX_DRAWS):
        params = SubjectParameters(
            p1=normal(P1),
            p2=normal(P2),
            p3=10.0 ** normal(LOG10_P3),
            p4=10.0 ** normal(LOG10_P4),
            p5=10.0 ** normal(LOG10_P5),
            sigma_x=10.0 ** rng.gauss(*LOG10_SIGMA_X),
            sigma_y=10.0 ** rng.gauss(*LOG10_SIGMA_Y),
        )
        if _plausible(params):
            return params
    raise RuntimeError(f"no plausible subject in {MAX_DRAWS} draws")  # pragma: no cover


def gev_quantile(u: float, location: float, scale: float, shape: float) -> float:
    """Inverse CDF of the generalized extreme value distribution (shape != 0)."""
    return location + scale * (math.pow(-math.log(u), -shape) - 1.0) / shape


class VirtualSubject:
    """A simulated hand muscle at rest whose noise-free 50 µV threshold is `true_rmt`."""

    def __init__(
        self,
        true_rmt: float,
        seed: int | None = None,
        *,
        params: SubjectParameters | None = None,
        criterion_uv: float = RESTING_MEP_CRITERION_UV,
    ) -> None:
        if not (math.isfinite(true_rmt) and true_rmt > 0):
            raise ConfigError(f"true RMT must be a positive % MSO, got {true_rmt!r}")
        self._rng = random.Random(seed)
        drawn = params if params is not None else draw_parameters(self._rng)
        self.params = drawn.shifted(true_rmt - drawn.noise_free_threshold(criterion_uv))
        self.true_rmt = true_rmt
        self.criterion_uv = criterion_uv

    # -- per pulse -------------------------------------------------------------------

    def mep_uv(self, intensity_percent_mso: float) -> float:
        """Peak-to-peak MEP of one pulse, µV (draws the three noise sources)."""
        p = self.params
        drive = intensity_percent_mso - p.p5 + self._rng.gauss(0.0, p.sigma_x)
        signal = math.pow(10.0, p.log10_signal_uv(drive) + self._rng.gauss(0.0, p.sigma_y))
        u = self._rng.random() or 5e-324  # random() may return 0.0; the quantile needs u > 0
        baseline = gev_quantile(u, p.baseline_location_uv, GEV_SCALE_UV, GEV_SHAPE)
        # The GEV lower bound is about -3 µV (reached with probability ~e^-19800); a
        # peak-to-peak amplitude is non-negative by definition.
        return max(0.0, baseline + signal)

    def response(self, intensity_percent_mso: int) -> MepReading:
        """`stimctl.rmt.MepSource`: one pulse's amplitude."""
        return MepReading(amplitude_uv=self.mep_uv(intensity_percent_mso))

    # -- ground truth for tests and benchmarks ---------------------------------------

    def noise_free_mep_uv(self, intensity_percent_mso: float) -> float:
        """The recruitment curve without any noise or baseline, µV."""
        return math.pow(10.0, self.params.log10_signal_uv(intensity_percent_mso - self.params.p5))

    def response_probability(
        self,
        intensity_percent_mso: float,
        criterion_uv: float | None = None,
        *,
        input_nodes: int = 48,
        baseline_nodes: int = 16,
    ) -> float:
        """P(MEP >= criterion) at this intensity, by quadrature over the three noise sources.

        eps_x and the baseline are integrated on equal-probability (quantile midpoint)
        nodes; eps_y is integrated exactly (normal tail).
        """
        c = self.criterion_uv if criterion_uv is None else criterion_uv
        p = self.params
        location = p.baseline_location_uv
        baselines = [
            gev_quantile((j + 0.5) / baseline_nodes, location, GEV_SCALE_UV, GEV_SHAPE)
            for j in range(baseline_nodes)
        ]
        total = 0.0
        for i in range(input_nodes):
            eps_x = p.sigma_x * _STD.inv_cdf((i + 0.5) / input_nodes)
            log_signal = p.log10_signal_uv(intensity_percent_mso - p.p5 + eps_x)
            for base in baselines:
                gap = c - base
                if gap <= 0:
                    total += 1.0
                else:
                    # need eps_y >= log10(gap) - log_signal
                    total += 1.0 - _STD.cdf((math.log10(gap) - log_signal) / p.sigma_y)
        return total / (input_nodes * baseline_nodes)

    def probability_threshold(self, probability: float = 0.5, **nodes: int) -> float:
        """The intensity where P(MEP >= criterion) equals `probability` (bisection)."""
        if not 0 < probability < 1:
            raise ConfigError(f"probability must be in (0, 1), got {probability!r}")
        lo = self.true_rmt - 60.0
        hi = self.true_rmt + 60.0
        for _ in range(40):
            mid = (lo + hi) / 2
            if self.response_probability(mid, **nodes) < probability:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-3:
                break
        return (lo + hi) / 2


def probability_curve(
    subject: VirtualSubject, intensities: Iterable[float]
) -> list[tuple[float, float]]:
    """(intensity, P(response)) pairs: the subject's psychometric function."""
    return [(x, subject.response_probability(x)) for x in intensities]


def make_source(true_rmt: float, seed: int | None) -> VirtualSubject:
    """Entry point `stimctl.mep_sources: virtual`: a fresh virtual subject."""
    return VirtualSubject(true_rmt, seed)
