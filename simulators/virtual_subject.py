"""A virtual subject: the Goetz 2019 three-source statistical MEP model (safety-limits 4.2).

Per pulse at stimulus strength x (% MSO):

    MEP_pp = GEV baseline noise + 1e-7 V * 10^(eps_y + p2 / (1 + p3 / max(x - p5 + eps_x, 0)^p4))

eps_x ~ N(0, sigma_x) is input-side noise in % MSO (about 4.9), eps_y ~ N(0, sigma_y) is
output-side noise in decades (about 0.11), and the GEV term is the EMG baseline
(location about 8.3 µV, scale 1.55 µV, shape 0.14). Subject parameters are drawn from the
population distributions of safety-limits 4.2 and redrawn until the noise-free curve is
plausible. Readings of that section, stated so they can be checked:

- The variances given for p1, p2 and Sigma are variances (their square roots reproduce the
  quoted 5-95 % saturation range).
- log10(p3), log10(p4), log10(p5) are drawn *jointly*, with the full covariance matrix of
  the model's published generator (Goetz, Alavi, Deng & Peterchev 2019; public MATLAB
  code `Statistical-MEP-Model/virtualsubjectEIVGenerateSubject.m` in
  BoshuoWang/TMS_Thresholding, r2.1). Section 4.2 quotes only its diagonal. The three are
  strongly correlated (p3-p4 +0.97, p3-p5 -0.87, p4-p5 -0.82); drawn independently they
  give curves about twice as steep as the reference population (MEP at 120 % of
  threshold 2.3 instead of 1.0 mV, ADR 0008).
- The EMG baseline's GEV scale and shape vary from subject to subject as in that
  generator (1.55 µV x 1.5^z and 0.14 x 2^z, z standard normal).
- p1 ~ N(-5.08, .) is the log10 of the baseline location in volts: 10^-5.08 V = 8.3 µV,
  the quoted GEV location.

The subject is then shifted along the intensity axis so that its resting motor threshold
in the clinical sense, the intensity where P(MEP >= 50 µV) = 0.5 with all noise sources,
equals the requested true RMT; the shape of the curve and the noise in % MSO are kept
(ADR 0008). Randomness comes only from `random.Random(seed)`.

Paired pulses (issue 19 item 3): a subthreshold conditioning pulse `interval_ms` before the
test pulse multiplies the test MEP's signal (not the baseline EMG) by a known term,
`sici_ratio` at 1-5 ms and `icf_ratio` at 7-20 ms (defaults 0.5 and 1.5, inside the
ranges healthy hand muscles show: Kujirai et al. 1993; Rossini et al. 2015), 1 at other
intervals. A made-up constant, so a test can check the measurement recovers it.

`VirtualSubject.response` makes it a `stimctl.rmt.MepSource` (structurally; stimctl never
imports this module, it finds `make_source` through the entry-point group
`stimctl.mep_sources`).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

from stimctl.errors import ConfigError
from stimctl.mep import RESTING_MEP_CRITERION_UV, MepReading

# Population parameters (safety-limits 4.2): mean and variance.
P1 = (-5.08, 0.0036)
P2 = (4.53, 0.126)
# log10(p3), log10(p4), log10(p5): means and covariance of the published generator (Goetz
# 2019 model, virtualsubjectEIVGenerateSubject.m r2.1); the diagonal is safety-limits 4.2's.
LOG10_P345_MEAN = (3.646550162125, 0.426390035500, 1.666487134750)
LOG10_P345_COV = (
    (7.202738820058, 0.569742608764, -0.197461987887),
    (0.569742608764, 0.047425817251, -0.015113039713),
    (-0.197461987887, -0.015113039713, 0.007107112788),
)
LOG10_SIGMA_X = (0.688, 0.024)  # mean, SD of the between-subject term
LOG10_SIGMA_Y = (-0.965, 0.023)
GEV_SCALE_UV = 1.55  # population centre; each subject's is GEV_SCALE_UV * 1.5^z
GEV_SHAPE = 0.14  # population centre; each subject's is GEV_SHAPE * 2^z
GEV_SCALE_SPREAD = 1.5
GEV_SHAPE_SPREAD = 2.0

# Plausibility bounds for a drawn subject (safety-limits 4.2).
SPAN_LOW_X, SPAN_HIGH_X = 20.0, 120.0
SPAN_LOW_MAX_UV, SPAN_HIGH_MIN_UV = 30.0, 1000.0
CEILING_UV = 30_000.0
MAX_DRAWS = 10_000

SICI_RATIO = 0.5  # conditioned / unconditioned signal at 1-5 ms
ICF_RATIO = 1.5  # at 7-20 ms
SICI_MS = (1.0, 5.0)
ICF_MS = (7.0, 20.0)

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
    gev_scale_uv: float = GEV_SCALE_UV
    gev_shape: float = GEV_SHAPE

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

    def response_probability(
        self,
        intensity_percent_mso: float,
        criterion_uv: float = RESTING_MEP_CRITERION_UV,
        *,
        input_nodes: int = 48,
        baseline_nodes: int = 16,
    ) -> float:
        """P(MEP >= criterion) at this intensity, by quadrature over the three noise sources.

        eps_x and the baseline are integrated on equal-probability (quantile midpoint)
        nodes; eps_y is integrated exactly (normal tail).
        """
        baselines = [
            gev_quantile(
                (j + 0.5) / baseline_nodes,
                self.baseline_location_uv,
                self.gev_scale_uv,
                self.gev_shape,
            )
            for j in range(baseline_nodes)
        ]
        total = 0.0
        for i in range(input_nodes):
            eps_x = self.sigma_x * _STD.inv_cdf((i + 0.5) / input_nodes)
            log_signal = self.log10_signal_uv(intensity_percent_mso - self.p5 + eps_x)
            for base in baselines:
                gap = criterion_uv - base
                if gap <= 0:
                    total += 1.0
                else:
                    # need eps_y >= log10(gap) - log_signal
                    total += 1.0 - _STD.cdf((math.log10(gap) - log_signal) / self.sigma_y)
        return total / (input_nodes * baseline_nodes)

    def probability_threshold(
        self,
        probability: float = 0.5,
        criterion_uv: float = RESTING_MEP_CRITERION_UV,
        **nodes: int,
    ) -> float:
        """The intensity where P(MEP >= criterion) equals `probability` (bisection)."""
        if not 0 < probability < 1:
            raise ConfigError(f"probability must be in (0, 1), got {probability!r}")
        centre = self.noise_free_threshold(criterion_uv)
        lo, hi = centre - 60.0, centre + 60.0
        while hi - lo > 1e-3:
            mid = (lo + hi) / 2
            if self.response_probability(mid, criterion_uv, **nodes) < probability:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def shifted(self, by: float) -> SubjectParameters:
        return dataclasses.replace(self, p5=self.p5 + by)


def _plausible(params: SubjectParameters) -> bool:
    low = math.pow(10.0, params.log10_signal_uv(SPAN_LOW_X - params.p5))
    high = math.pow(10.0, params.log10_signal_uv(SPAN_HIGH_X - params.p5))
    ceiling = math.pow(10.0, params.p2 - 1.0)
    return low < SPAN_LOW_MAX_UV and high > SPAN_HIGH_MIN_UV and ceiling <= CEILING_UV


def _cholesky(matrix: tuple[tuple[float, ...], ...]) -> tuple[tuple[float, ...], ...]:
    """Lower-triangular L with L L^T = matrix (a small symmetric positive-definite one)."""
    n = len(matrix)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            partial = sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                lower[i][j] = math.sqrt(matrix[i][i] - partial)
            else:
                lower[i][j] = (matrix[i][j] - partial) / lower[j][j]
    return tuple(tuple(row) for row in lower)


_LOG10_P345_CHOLESKY = _cholesky(LOG10_P345_COV)


def _correlated_normals(rng: random.Random) -> list[float]:
    """One draw of (log10 p3, log10 p4, log10 p5) from the joint normal."""
    z = [rng.gauss(0.0, 1.0) for _ in LOG10_P345_MEAN]
    return [
        mean + sum(row[k] * z[k] for k in range(len(z)))
        for mean, row in zip(LOG10_P345_MEAN, _LOG10_P345_CHOLESKY, strict=True)
    ]


def draw_parameters(rng: random.Random) -> SubjectParameters:
    """Draw one plausible subject from the population (unshifted, as in the source data)."""

    def normal(mean_var: tuple[float, float]) -> float:
        return rng.gauss(mean_var[0], math.sqrt(mean_var[1]))

    for _ in range(MAX_DRAWS):
        p1, p2 = normal(P1), normal(P2)
        log_p3, log_p4, log_p5 = _correlated_normals(rng)
        params = SubjectParameters(
            p1=p1,
            p2=p2,
            p3=10.0**log_p3,
            p4=10.0**log_p4,
            p5=10.0**log_p5,
            sigma_x=10.0 ** rng.gauss(*LOG10_SIGMA_X),
            sigma_y=10.0 ** rng.gauss(*LOG10_SIGMA_Y),
            gev_scale_uv=GEV_SCALE_UV * GEV_SCALE_SPREAD ** rng.gauss(0.0, 1.0),
            gev_shape=GEV_SHAPE * GEV_SHAPE_SPREAD ** rng.gauss(0.0, 1.0),
        )
        if _plausible(params):
            return params
    raise RuntimeError(f"no plausible subject in {MAX_DRAWS} draws")  # pragma: no cover


def gev_quantile(u: float, location: float, scale: float, shape: float) -> float:
    """Inverse CDF of the generalized extreme value distribution (shape != 0)."""
    return location + scale * (math.pow(-math.log(u), -shape) - 1.0) / shape


class VirtualSubject:
    """A simulated hand muscle at rest whose resting motor threshold is `true_rmt`.

    The threshold is the clinical one (IFCN; Rossini 2015): the intensity at which a pulse
    evokes an MEP of at least `criterion_uv` with probability 0.5, all three noise sources
    included, as in the reprocessed Wang, Peterchev & Goetz 2023 subjects. It lies a
    little below the noise-free curve's 50 µV crossing (`noise_free_rmt`), because the
    baseline EMG adds to every amplitude.
    """

    def __init__(
        self,
        true_rmt: float,
        seed: int | None = None,
        *,
        params: SubjectParameters | None = None,
        criterion_uv: float = RESTING_MEP_CRITERION_UV,
        sici_ratio: float = SICI_RATIO,
        icf_ratio: float = ICF_RATIO,
    ) -> None:
        if not (math.isfinite(true_rmt) and true_rmt > 0):
            raise ConfigError(f"true RMT must be a positive % MSO, got {true_rmt!r}")
        self._rng = random.Random(seed)
        drawn = params if params is not None else draw_parameters(self._rng)
        # P(response) depends on x - p5 only, so shifting p5 shifts the whole curve.
        self.params = drawn.shifted(true_rmt - drawn.probability_threshold(0.5, criterion_uv))
        self.true_rmt = true_rmt
        self.criterion_uv = criterion_uv
        for name, ratio in (("sici_ratio", sici_ratio), ("icf_ratio", icf_ratio)):
            if not (math.isfinite(ratio) and ratio > 0):
                raise ConfigError(f"{name} must be > 0, got {ratio!r}")
        self.sici_ratio = sici_ratio
        self.icf_ratio = icf_ratio

    @property
    def noise_free_rmt(self) -> float:
        """Where the noise-free curve (no noise, no baseline) crosses the criterion."""
        return self.params.noise_free_threshold(self.criterion_uv)

    # -- per pulse -------------------------------------------------------------------

    def mep_uv(self, intensity_percent_mso: float, *, gain: float = 1.0) -> float:
        """Peak-to-peak MEP of one pulse, µV (draws the three noise sources); `gain`
        scales the signal, not the baseline (a conditioning pulse's effect)."""
        p = self.params
        drive = intensity_percent_mso - p.p5 + self._rng.gauss(0.0, p.sigma_x)
        signal = gain * math.pow(10.0, p.log10_signal_uv(drive) + self._rng.gauss(0.0, p.sigma_y))
        u = self._rng.random() or 5e-324  # random() may return 0.0; the quantile needs u > 0
        baseline = gev_quantile(u, p.baseline_location_uv, p.gev_scale_uv, p.gev_shape)
        # The GEV's lower bound (location - scale / shape) can be below 0 µV, if only with
        # vanishing probability; a peak-to-peak amplitude is non-negative by definition.
        return max(0.0, baseline + signal)

    def response(self, intensity_percent_mso: int) -> MepReading:
        """`stimctl.rmt.MepSource`: one pulse's amplitude."""
        return MepReading(amplitude_uv=self.mep_uv(intensity_percent_mso))

    def paired_gain(self, interval_ms: float) -> float:
        """The known conditioning effect at this interval (1 outside SICI and ICF)."""
        if SICI_MS[0] <= interval_ms <= SICI_MS[1]:
            return self.sici_ratio
        if ICF_MS[0] <= interval_ms <= ICF_MS[1]:
            return self.icf_ratio
        return 1.0

    def paired_mep_uv(self, conditioning: float, test: float, interval_ms: float) -> float:
        """The test MEP of a conditioned pair. The conditioning pulse must be below the
        threshold (the model has no suprathreshold conditioning)."""
        if conditioning >= self.true_rmt:
            raise ConfigError(
                f"conditioning pulse {conditioning} % MSO is not below this subject's RMT"
            )
        return self.mep_uv(test, gain=self.paired_gain(interval_ms))

    def paired_response(
        self, conditioning_percent_mso: int, test_percent_mso: int, interval_ms: float
    ) -> MepReading:
        """`stimctl.rmt.paired.PairedMepSource`: the MEP after a conditioned test pulse."""
        mep = self.paired_mep_uv(conditioning_percent_mso, test_percent_mso, interval_ms)
        return MepReading(amplitude_uv=mep)

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
        """P(MEP >= criterion) at this intensity (see `SubjectParameters`)."""
        c = self.criterion_uv if criterion_uv is None else criterion_uv
        return self.params.response_probability(
            intensity_percent_mso, c, input_nodes=input_nodes, baseline_nodes=baseline_nodes
        )

    def probability_threshold(self, probability: float = 0.5, **nodes: int) -> float:
        """The intensity where P(MEP >= criterion) equals `probability`."""
        return self.params.probability_threshold(probability, self.criterion_uv, **nodes)


def probability_curve(
    subject: VirtualSubject, intensities: Iterable[float]
) -> list[tuple[float, float]]:
    """(intensity, P(response)) pairs: the subject's psychometric function."""
    return [(x, subject.response_probability(x)) for x in intensities]


def make_source(true_rmt: float, seed: int | None) -> VirtualSubject:
    """Entry point `stimctl.mep_sources: virtual`: a fresh virtual subject."""
    return VirtualSubject(true_rmt, seed)
