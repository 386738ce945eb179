"""Population prior and likelihood tables for amplitude-aware threshold estimation.

The recruitment-curve model is the published three-source statistical MEP model (Goetz,
Alavi, Deng & Peterchev 2019; safety-limits 4.2): at stimulus strength x (% MSO)

    MEP = baseline (GEV) + 10^(eps_y + p2 / (1 + p3 / max(x - p5 + eps_x, 0)^p4) - 1) µV

with input noise eps_x ~ N(0, sigma_x) % MSO and output noise eps_y ~ N(0, sigma_y)
decades. The prior over a subject's curve *shape* is a fixed sample of `SHAPES` subjects
drawn from the published population (numbers below, from safety-limits 4.2 and the
model's public generator `Statistical-MEP-Model/virtualsubjectEIVGenerateSubject.m` r2.1
in BoshuoWang/TMS_Thresholding). Each shape is placed on the intensity axis by its
threshold T, the intensity where P(MEP >= criterion) = 0.5 with all noise (issue 7,
ADR 0008), so a shape is a function of r = x - T and the threshold is a separate,
flat-prior parameter (ADR 0017: a % MSO threshold depends on device, coil and muscle, so
the population's % MSO distribution is not used).

For each shape the tables hold P(amplitude bin | r): amplitudes are binned on a log grid
(0.1 decade from 10 µV to 32 mV, the criterion an edge; a reading's spread at a given
intensity is about 0.5 decade, so finer bins add little), which keeps the likelihood of
an observation a table look-up. The tables are computed once per criterion (about a
second) and cached.

stimctl never imports `simulators/` (ARCHITECTURE rule 1); the population numbers are
restated here as published facts.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.special import ndtr

FloatArray = npt.NDArray[np.float64]

# -- the published population (safety-limits 4.2; generator r2.1) ---------------------
P1_MEAN_VAR = (-5.08, 0.0036)  # log10 of the baseline GEV location in volts
P2_MEAN_VAR = (4.53, 0.126)  # sigmoid height, decades of 0.1 µV
LOG10_P345_MEAN = (3.646550162125, 0.426390035500, 1.666487134750)
LOG10_P345_COV = (
    (7.202738820058, 0.569742608764, -0.197461987887),
    (0.569742608764, 0.047425817251, -0.015113039713),
    (-0.197461987887, -0.015113039713, 0.007107112788),
)
LOG10_SIGMA_X_MEAN_SD = (0.688, 0.024)  # input noise, log10 % MSO
LOG10_SIGMA_Y_MEAN_SD = (-0.965, 0.023)  # output noise, log10 decades
GEV_SCALE_UV, GEV_SCALE_SPREAD = 1.55, 1.5  # each subject: 1.55 µV x 1.5^z
GEV_SHAPE, GEV_SHAPE_SPREAD = 0.14, 2.0  # each subject: 0.14 x 2^z
# Plausibility of a drawn subject (safety-limits 4.2): < 30 µV at 20 % MSO, > 1 mV at
# 120 % MSO, saturation at most 30 mV.
SPAN_LOW_X, SPAN_HIGH_X = 20.0, 120.0
SPAN_LOW_MAX_UV, SPAN_HIGH_MIN_UV, CEILING_UV = 30.0, 1000.0, 30_000.0

# -- numerical choices -----------------------------------------------------------------
SHAPES = 256  # prior sample size: enough to span slopes and noise levels, small enough to be fast
PRIOR_SEED = 20190501  # fixed: the prior is a constant of the method, not a random draw
R_STEP = 0.25  # % MSO: resolution of the threshold grid and of r = x - T
R_HALF_SPAN = 40.0  # r beyond +-40 % MSO uses the edge value (floor or plateau)
EDGE_LOW_LOG10_UV, EDGE_HIGH_LOG10_UV, EDGE_STEP = 1.0, 4.5, 0.1
BASELINE_NODES = 16
D_STEP = 1.0  # % MSO: drive grid on which the input noise is convolved
D_LOW, D_HIGH = -40.0, 220.0
LAPSE = 0.005  # share of readings treated as uninformative (artefacts, a missed trigger)


@dataclass(frozen=True)
class Shape:
    """One subject of the prior sample; p5 is as drawn (the threshold places it later)."""

    p1: float
    p2: float
    p3: float
    p4: float
    p5: float
    sigma_x: float
    sigma_y: float
    gev_scale_uv: float
    gev_shape: float

    def log10_signal_uv(self, drive: FloatArray) -> FloatArray:
        """log10 of the noise-free MEP in µV (baseline excluded) at drive = x - p5."""
        safe = np.maximum(drive, 1e-12)
        log_ratio = np.minimum(math.log(self.p3) - self.p4 * np.log(safe), 700.0)
        value = self.p2 / (1.0 + np.exp(log_ratio)) - 1.0
        return np.where(drive > 0, value, -1.0)

    def baseline_nodes_uv(self, count: int = BASELINE_NODES) -> FloatArray:
        """Equal-probability nodes (quantile midpoints) of the baseline GEV, µV."""
        u = (np.arange(count) + 0.5) / count
        location = 10.0 ** (self.p1 + 6.0)
        spread = ((-np.log(u)) ** -self.gev_shape - 1.0) / self.gev_shape
        return np.asarray(location + self.gev_scale_uv * spread, dtype=np.float64)

    def plausible(self) -> bool:
        def at(x: float) -> float:
            return float(10.0 ** self.log10_signal_uv(np.array([x - self.p5]))[0])

        ceiling = 10.0 ** (self.p2 - 1.0)
        return (
            at(SPAN_LOW_X) < SPAN_LOW_MAX_UV
            and at(SPAN_HIGH_X) > SPAN_HIGH_MIN_UV
            and ceiling <= CEILING_UV
        )


def draw_shapes(count: int = SHAPES, seed: int = PRIOR_SEED) -> tuple[Shape, ...]:
    """`count` plausible subjects from the published population (fixed seed)."""
    rng = np.random.default_rng(seed)
    cholesky = np.linalg.cholesky(np.array(LOG10_P345_COV))
    shapes: list[Shape] = []
    while len(shapes) < count:
        log_p3, log_p4, log_p5 = np.array(LOG10_P345_MEAN) + cholesky @ rng.standard_normal(3)
        shape = Shape(
            p1=float(rng.normal(P1_MEAN_VAR[0], math.sqrt(P1_MEAN_VAR[1]))),
            p2=float(rng.normal(P2_MEAN_VAR[0], math.sqrt(P2_MEAN_VAR[1]))),
            p3=float(10.0**log_p3),
            p4=float(10.0**log_p4),
            p5=float(10.0**log_p5),
            sigma_x=float(10.0 ** rng.normal(*LOG10_SIGMA_X_MEAN_SD)),
            sigma_y=float(10.0 ** rng.normal(*LOG10_SIGMA_Y_MEAN_SD)),
            gev_scale_uv=float(GEV_SCALE_UV * GEV_SCALE_SPREAD ** rng.normal()),
            gev_shape=float(GEV_SHAPE * GEV_SHAPE_SPREAD ** rng.normal()),
        )
        if shape.plausible():
            shapes.append(shape)
    return tuple(shapes)


def amplitude_edges_uv(criterion_uv: float) -> FloatArray:
    """Bin edges in µV: a 0.1-decade log grid with the criterion as one edge."""
    count = round((EDGE_HIGH_LOG10_UV - EDGE_LOW_LOG10_UV) / EDGE_STEP) + 1
    logs = np.linspace(EDGE_LOW_LOG10_UV, EDGE_HIGH_LOG10_UV, count)
    logs = np.unique(np.append(logs, math.log10(criterion_uv)))
    return np.asarray(10.0**logs, dtype=np.float64)


@dataclass(frozen=True)
class LikelihoodTables:
    """P(bin | r, shape) for every shape; r = x - T on `r_grid`.

    `log_bins[r_index, shape, bin]`: log probability of each amplitude bin (bins are
    below the first edge, between edges, at or above the last). `log_yes` / `log_no`
    [r_index, shape]: log P(MEP >= criterion) and its complement, for yes/no readings.
    """

    edges_uv: FloatArray
    criterion_edge: int
    r_grid: FloatArray
    bins: npt.NDArray[np.float32]
    log_bins: FloatArray
    log_yes: FloatArray
    log_no: FloatArray
    shapes: tuple[Shape, ...]

    def bin_of(self, amplitude_uv: float) -> int:
        return int(np.searchsorted(self.edges_uv, amplitude_uv, side="right"))

    def r_index(self, r: FloatArray) -> npt.NDArray[np.intp]:
        raw = np.rint((r - self.r_grid[0]) / R_STEP)
        return np.asarray(np.clip(raw, 0, len(self.r_grid) - 1), dtype=np.intp)


def _cdf_on_drive(shape: Shape, drive: FloatArray, edges_uv: FloatArray) -> FloatArray:
    """P(MEP <= edge), input noise left out, averaged over each drive cell: [drive, edge].

    Cell averages, not point values: for a steep curve the log amplitude moves by more
    than its output noise within one cell, and point values would make the amplitude
    distribution lumpy once the input noise is convolved in. Within a cell the log signal
    is taken as linear, so the average of Phi(z) over it is exact:
    (Psi(z1) - Psi(z0)) / (z1 - z0) with Psi(z) = z Phi(z) + phi(z).
    """
    bounds = np.append(drive - D_STEP / 2, drive[-1] + D_STEP / 2)
    signal = shape.log10_signal_uv(bounds)[:, None, None]  # log10 µV at the cell bounds
    gaps = edges_uv[None, :, None] - shape.baseline_nodes_uv()[None, None, :]
    # P(baseline + 10^(signal + eps_y) <= edge) = P(eps_y <= log10(edge - baseline) - signal)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log10(np.where(gaps > 0, gaps, 1.0)) - signal) / shape.sigma_y
    psi = z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    z0, z1 = z[:-1], z[1:]
    step = z1 - z0
    flat = np.abs(step) < 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(
            flat, ndtr((z0 + z1) / 2), (psi[1:] - psi[:-1]) / np.where(flat, 1.0, step)
        )
    cdf = np.where(gaps > 0, np.clip(average, 0.0, 1.0), 0.0)
    return np.asarray(cdf.mean(axis=2), dtype=np.float64)


def shape_cdf_table(
    shape: Shape, edges_uv: FloatArray, criterion_edge: int, r_grid: FloatArray
) -> FloatArray:
    """P(MEP <= edge | r = x - T) for one shape: [r, edge]."""
    drive = np.arange(D_LOW, D_HIGH + D_STEP / 2, D_STEP)
    # The input noise shifts the drive: convolve along the drive axis with N(0, sigma_x).
    cdf = gaussian_filter1d(
        _cdf_on_drive(shape, drive, edges_uv),
        sigma=shape.sigma_x / D_STEP,
        axis=0,
        mode="nearest",
        truncate=6.0,
    )
    p_response = 1.0 - cdf[:, criterion_edge]
    above = int(np.argmax(p_response >= 0.5))
    if above == 0 or p_response[above] < 0.5:  # pragma: no cover - plausible shapes cross
        raise RuntimeError("a prior shape never reaches the criterion")
    lo, hi = p_response[above - 1], p_response[above]
    threshold_drive = drive[above - 1] + D_STEP * (0.5 - lo) / (hi - lo)
    wanted = threshold_drive + r_grid
    columns = [np.interp(wanted, drive, cdf[:, e]) for e in range(len(edges_uv))]
    return np.stack(columns, axis=1)


@functools.cache
def likelihood_tables(criterion_uv: float = 50.0, shapes: int = SHAPES) -> LikelihoodTables:
    """The cached tables for this criterion (computed once per process)."""
    return build_tables(draw_shapes(shapes), criterion_uv)


def build_tables(prior: tuple[Shape, ...], criterion_uv: float) -> LikelihoodTables:
    """Tables for these shapes (equal prior weights)."""
    edges = amplitude_edges_uv(criterion_uv)
    criterion_edge = int(np.argmin(np.abs(edges - criterion_uv)))
    count = round(2 * R_HALF_SPAN / R_STEP) + 1
    r_grid = np.linspace(-R_HALF_SPAN, R_HALF_SPAN, count)
    cdf = np.stack(
        [shape_cdf_table(s, edges, criterion_edge, r_grid) for s in prior], axis=1
    )  # [r, shape, edge]
    ones = np.ones((*cdf.shape[:2], 1))
    bins = np.diff(np.concatenate([0.0 * ones, cdf, ones], axis=2), axis=2)
    bins = (1.0 - LAPSE) * np.clip(bins, 0.0, 1.0) + LAPSE / bins.shape[2]
    bins /= bins.sum(axis=2, keepdims=True)
    p_no = bins[:, :, : criterion_edge + 1].sum(axis=2)
    return LikelihoodTables(
        edges_uv=edges,
        criterion_edge=criterion_edge,
        r_grid=r_grid,
        bins=bins.astype(np.float32),  # the design's hot loop; single precision is plenty
        log_bins=np.log(bins),
        log_yes=np.log(1.0 - p_no),
        log_no=np.log(p_no),
        shapes=prior,
    )
