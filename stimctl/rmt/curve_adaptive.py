"""Adaptive placement of a recruitment curve's pulses (issue 19 item 2, FIM-SPE style).

Instead of every level `per_level` times, the curve starts with each level of the plan
once (random order: the fit needs three or more intensities) and then puts each further
pulse at the whole % MSO where it adds most information about the Boltzmann parameters
(plateau, S50, k): the D-optimal choice, the candidate x that maximises

    det(F + g(x) g(x)^T / s(x)^2) = det(F) * (1 + g(x)^T F^-1 g(x) / s(x)^2)

with F the Fisher information of the pulses so far at the current fit, g(x) the gradient
of the fitted MEP(x) in the parameters and s(x) the MEP's spread at x. This is the
sequential parameter estimation with Fisher information of Alavi, Goetz & Peterchev 2019
(Brain Stimul 12:1345, "FIM-SPE"), in its least-squares form. The spread is modelled as a
share of the MEP plus a floor, because MEPs vary multiplicatively (about 0.1-0.2 decades
between pulses; safety-limits 4.2 model), so a pulse on the plateau is worth less than
its size suggests.

Candidates are only the whole % MSO between the plan's lowest and highest level, which
the plan has already checked against the intensity cap: the adaptive choice can never go
above the cap, nor outside the range the operator asked for. If the fit fails (too few
distinct intensities, no convergence), the next level of the plan is taken in turn.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np

from stimctl.errors import ConfigError
from stimctl.rmt.curve import BoltzmannFit, fit_boltzmann

RELATIVE_SPREAD = 0.1
"""The modelled MEP spread as a share of its mean. Chosen by simulation, not derived: on
a Boltzmann subject with 0.1 decades of log-normal noise, (0.1, 50 µV) gave the smallest
S50 and k errors of the settings tried ((0.25, 10), (0.3, 20), (0.5, 20), (0, 100),
(0.1, 100)); a larger share pulled the pulses too low on the curve."""
BASELINE_SPREAD_UV = 50.0
"""The floor of the modelled spread (EMG baseline and the low end of the curve), µV."""
_RIDGE = 1e-9


def _gradient(fit: BoltzmannFit, x: np.ndarray) -> np.ndarray:
    """d MEP / d (plateau, s50, k) at each x: shape (len(x), 3)."""
    z = np.clip((fit.s50 - x) / fit.k, -50.0, 50.0)
    e = np.exp(z)
    s = 1.0 / (1.0 + e)  # the sigmoid, MEP / plateau
    ds = s * (1.0 - s)  # d s / d u, u = (x - s50) / k
    return np.stack(
        [s, -fit.plateau_uv * ds / fit.k, -fit.plateau_uv * ds * (x - fit.s50) / fit.k**2],
        axis=1,
    )


def _spread(fit: BoltzmannFit, x: np.ndarray) -> np.ndarray:
    mean = fit.plateau_uv / (1.0 + np.exp(np.clip((fit.s50 - x) / fit.k, -50.0, 50.0)))
    return np.asarray(RELATIVE_SPREAD * mean + BASELINE_SPREAD_UV)


def most_informative(fit: BoltzmannFit, delivered: Sequence[int], candidates: Sequence[int]) -> int:
    """The candidate whose next pulse adds most to det(Fisher information); on a tie the
    lowest intensity (the smaller dose)."""
    done = np.asarray(delivered, dtype=np.float64)
    g = _gradient(fit, done) / _spread(fit, done)[:, None]
    info = g.T @ g + _RIDGE * np.eye(3)
    inverse = np.linalg.pinv(info)
    cand = np.asarray(candidates, dtype=np.float64)
    h = _gradient(fit, cand) / _spread(fit, cand)[:, None]
    gain = np.einsum("ij,jk,ik->i", h, inverse, h)
    return int(candidates[int(np.argmax(gain))])  # argmax: the first (lowest) on a tie


def adaptive_intensities(
    levels: Sequence[int],
    total: int,
    rng: random.Random,
    delivered: Sequence[tuple[int, float]],
) -> Iterator[int]:
    """Yield `total` intensities: every level once in random order, then the most
    informative. `delivered` is the caller's growing list of (intensity, MEP µV), read
    each time the generator resumes, so each choice sees every response before it."""
    start = list(levels)
    rng.shuffle(start)
    if total < len(start):
        raise ConfigError(f"an adaptive curve needs at least {len(start)} pulses (one a level)")
    yield from start
    candidates = list(range(min(levels), max(levels) + 1))
    fallback = 0
    for _ in range(total - len(start)):
        xs = [x for x, _ in delivered]
        try:
            fit = fit_boltzmann(xs, [y for _, y in delivered])
        except ConfigError:
            yield start[fallback % len(start)]
            fallback += 1
            continue
        yield most_informative(fit, xs, candidates)
