"""Accuracy and pulse cost of the threshold methods over many virtual subjects (issue 7).

Each subject is a fresh Goetz 2019 three-source virtual subject (simulators/virtual_subject)
with a true RMT drawn uniformly in 40-80 % MSO; every method hunts the same subjects.
Relative-frequency and Mills-Nithi start where an operator leaves the hotspot search,
about 120 % of RMT (rounded, at most 100); ML-PEST needs no start.

The true RMT is the clinical one: the intensity where P(MEP >= 50 µV) = 0.5 with all
three noise sources (what `--virtual-rmt` sets, ADR 0008).

Target: ML-PEST within 2 % MSO of the true threshold for 90 % of subjects in <= 20 pulses.
The bench also prints what no binary (response / no response) method can beat in this
model: for each subject, the Fisher information about the location of its probability-
of-response curve at the most informative whole-% intensity, I*. An unbiased estimator
that knew the curve's shape and put all n pulses there would have an SD of at least
1 / sqrt(n I*) (the Cramer-Rao bound), so the printed "bound" is the share of subjects such an
ideal observer gets within 2 % MSO of the true RMT. The input-side noise alone
(about 4.9 % MSO, Goetz 2019) makes the curve about 5 % MSO wide, which is why this share
is below 90 % at 20 pulses (ADR 0008).

bayes-amplitude (issue 19, ADR 0017) uses each MEP's amplitude. Each subject gets one
hunt with a fixed budget of `--bayes-pulses` (40) and no early stop; its posterior after
n pulses is what a hunt capped at n pulses would report (the placement of a pulse depends
only on the readings before it), so the rows "bayes n" come from that one hunt, and
"bayes-amplitude" (the default: stop at a 90 % credible interval of 3 % MSO, at most 20
pulses) is the same hunt cut where that rule first holds. Beside it the bench prints the
ideal *amplitude* observer: Cramer-Rao as above, with the Fisher information of the
binned amplitude (the method's own likelihood, computed for the subject's true curve
shape) at its most informative intensity. Decision time is the time spent in
`next_intensity()` and `observe()` per pulse.

"bayes, shape known" (issue 19, ADR 0024) is the same method with the subject's own curve
as its only prior shape: an oracle no real hunt has, printed as the ceiling of what a
better prior could give. Left out with `--no-oracle` (it builds one table per subject).

The bayes-amplitude estimate is the centre of the 4 % MSO window of most posterior mass,
the Bayes rule for "within 2 % MSO" (ADR 0034; before: the posterior median).

"bayes+prev" rows (ADR 0034) are NOT the generic method: each subject was measured once
before, on an earlier day (a default bayes-amplitude hunt on the same subject, its true
RMT shifted by a day-to-day drift ~ N(0, `--day-sd`), other noise draws), and today's
hunt takes that recorded RMT as a normal prior on T with SD `--prior-sd` (the CLI's
`--prior-from-records`). The drift SD is an assumption, not a published figure.
The "pulses for 90 % / 95 %" lines give the first budget at which each method puts that
share within 2 % MSO (ML-PEST only at its 20/30/40 budgets).
Run: .venv/bin/python bench/bench_rmt.py [subjects] [--quick] [--spread S]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from simulators.virtual_subject import VirtualSubject, draw_parameters
from stimctl.clock import VirtualClock
from stimctl.rmt import (
    HuntLimits,
    MillsNithi,
    MlPest,
    RelativeFrequency,
    ThresholdMethod,
    hunt,
)
from stimctl.rmt.methods.bayes_amplitude import BayesAmplitude, ThresholdPrior
from stimctl.rmt.methods.goetz_prior import (
    Shape,
    amplitude_edges_uv,
    build_tables,
    shape_cdf_table,
)

MethodFactory = Callable[[int], ThresholdMethod]


@dataclass
class Tally:
    errors: list[float] = field(default_factory=list)
    pulses: list[int] = field(default_factory=list)
    failed: int = 0


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


NODES = {"input_nodes": 32, "baseline_nodes": 8}


def best_information(subject: VirtualSubject, p50: float) -> float:
    """I*: the most Fisher information one pulse at a whole-% intensity gives about the
    location of this subject's probability-of-response curve (per (% MSO)^2)."""
    best = 0.0
    for x in range(round(p50) - 8, round(p50) + 9):
        p = subject.response_probability(x, **NODES)
        if not 0.0 < p < 1.0:
            continue
        slope = (
            subject.response_probability(x + 0.25, **NODES)
            - subject.response_probability(x - 0.25, **NODES)
        ) / 0.5
        best = max(best, slope * slope / (p * (1.0 - p)))
    return best


def amplitude_information(subject: VirtualSubject) -> float:
    """I* of the binned amplitude for this subject's own curve (see the module docstring)."""
    p = subject.params
    shape = Shape(p.p1, p.p2, p.p3, p.p4, p.p5, p.sigma_x, p.sigma_y, p.gev_scale_uv, p.gev_shape)
    edges = amplitude_edges_uv(subject.criterion_uv)
    r = np.arange(-8.0, 12.01, 0.25)
    cdf = shape_cdf_table(shape, edges, int(np.argmin(np.abs(edges - subject.criterion_uv))), r)
    ones = np.ones((len(r), 1))
    bins = np.diff(np.concatenate([0.0 * ones, cdf, ones], axis=1), axis=1)
    slope = np.gradient(bins, 0.25, axis=0)
    safe = np.where(bins > 1e-7, bins, 1.0)
    return float(np.where(bins > 1e-7, slope**2 / safe, 0.0).sum(axis=1).max())


@dataclass
class BayesTally:
    """The fixed-budget bayes-amplitude hunts: estimate and interval after every pulse."""

    histories: list[list[tuple[float, float, float]]] = field(default_factory=list)
    truths: list[float] = field(default_factory=list)
    decisions_s: list[float] = field(default_factory=list)

    def errors_at(self, pulses: int) -> list[float]:
        return [h[pulses - 1][0] - t for h, t in zip(self.histories, self.truths, strict=True)]

    def coverage_at(self, pulses: int) -> float:
        pairs = zip(self.histories, self.truths, strict=True)
        return statistics.fmean(h[pulses - 1][1] <= t <= h[pulses - 1][2] for h, t in pairs)

    def default_stop(
        self, width: float, min_pulses: int, cap: int
    ) -> tuple[list[float], list[int]]:
        """Errors and pulses of the default rule (interval <= width, at most cap pulses)."""
        errors, pulses = [], []
        for history, truth in zip(self.histories, self.truths, strict=True):
            n = next(
                (
                    i + 1
                    for i, (_m, lo, hi) in enumerate(history[:cap])
                    if i + 1 >= min_pulses and hi - lo <= width
                ),
                cap,
            )
            errors.append(history[n - 1][0] - truth)
            pulses.append(n)
        return errors, pulses


def run_bayes(
    subject: VirtualSubject,
    budget: int,
    tally: BayesTally,
    *,
    oracle: bool = False,
    prior: ThresholdPrior | None = None,
) -> None:
    tables = None
    if oracle:  # the subject's own curve as the only prior shape
        p = subject.params
        own = Shape(p.p1, p.p2, p.p3, p.p4, p.p5, p.sigma_x, p.sigma_y, p.gev_scale_uv, p.gev_shape)
        tables = build_tables((own,), subject.criterion_uv)
    method = BayesAmplitude(
        ci_width=None, limits=HuntLimits(max_pulses=budget), tables=tables, prior=prior
    )
    while not method.done:
        started = time.perf_counter()
        intensity = method.next_intensity()
        decided = time.perf_counter() - started
        reading = subject.response(intensity)
        started = time.perf_counter()
        method.observe(reading)
        tally.decisions_s.append(decided + time.perf_counter() - started)
    tally.histories.append(method.history)
    tally.truths.append(subject.true_rmt)


def within_2(errors: Sequence[float], subjects: int) -> float:
    """Share of all subjects (a failed hunt counts as a miss) within 2 % MSO."""
    return sum(abs(e) <= 2.0 for e in errors) / subjects


def bound_share(informations: Sequence[float], pulses: int, within: float = 2.0) -> float:
    """Share of subjects an ideal binary observer gets within `within` % MSO (Cramer-Rao)."""
    shares = []
    for info in informations:
        sd = 1.0 / (pulses * info) ** 0.5
        shares.append(2.0 * NormalDist().cdf(within / sd) - 1.0)
    return statistics.fmean(shares)


def previous_prior(
    subject: VirtualSubject, seed: int, day_sd: float, prior_sd: float
) -> ThresholdPrior | None:
    """The recorded RMT of an earlier day's default hunt on this subject, as a prior (None
    when that hunt found no threshold in range: then today's hunt has the flat prior)."""
    drift = random.Random(seed ^ 0x5EED).gauss(0.0, day_sd)
    earlier = VirtualSubject(subject.true_rmt + drift, seed + 1, params=subject.params)
    result = hunt(BayesAmplitude(), earlier, clock=VirtualClock())
    return None if result.rmt is None else ThresholdPrior(result.rmt, prior_sd)


def first_reaching(share_at: Callable[[int], float], target: float, upto: int) -> int | None:
    return next((n for n in range(1, upto + 1) if share_at(n) >= target), None)


def methods(spread: float) -> dict[str, MethodFactory]:
    return {
        "rr 5/10": lambda start: RelativeFrequency(start),
        "rr 10/20": lambda start: RelativeFrequency(start, positives=10, trials=20),
        "mills-nithi": lambda start: MillsNithi(start),
        "ml-pest 20": lambda _start: MlPest(spread=spread),
        "ml-pest 20 stable": lambda _start: MlPest(spread=spread, stable_pulses=6),
        "ml-pest 30": lambda _start: MlPest(spread=spread, limits=HuntLimits(max_pulses=30)),
        "ml-pest 40": lambda _start: MlPest(spread=spread, limits=HuntLimits(max_pulses=40)),
    }


def population_summary(count: int, seed: int) -> None:
    """The drawn population beside the reference figures of safety-limits 4.2."""
    rng = random.Random(seed)
    thresholds, at_120, saturation = [], [], []
    for _ in range(count):
        p = draw_parameters(rng)
        t = p.noise_free_threshold()
        thresholds.append(t)
        at_120.append(10 ** p.log10_signal_uv(1.2 * t - p.p5) / 1000)
        saturation.append(10 ** (p.p2 - 1.0) / 1000)

    def row(values: list[float]) -> str:
        return (
            f"{quantile(values, 0.5):.1f} ({quantile(values, 0.05):.1f}-"
            f"{quantile(values, 0.95):.1f})"
        )

    print("population, noise-free, before the shift to the requested RMT: median (5-95 %)")
    print(f"  50 uV threshold % MSO  {row(thresholds):<20} reference 65.5 (52.5-81.3)")
    print(f"  MEP at 120 % of it, mV {row(at_120):<20} reference 1.0 (0.38-5.3)")
    print(f"  saturation, mV         {row(saturation):<20} reference 3.8 (1.4-13.7)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subjects", type=int, nargs="?", default=None)
    parser.add_argument("--quick", action="store_true", help="200 subjects (default 1000)")
    parser.add_argument("--bayes-pulses", type=int, default=40, help="bayes-amplitude budget")
    parser.add_argument("--spread", type=float, default=5.0, help="ML-PEST spread, % MSO")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-oracle", action="store_true", help="skip 'bayes, shape known'")
    parser.add_argument("--no-previous", action="store_true", help="skip the 'bayes+prev' rows")
    parser.add_argument("--day-sd", type=float, default=2.0, help="day-to-day RMT drift, % MSO")
    parser.add_argument("--prior-sd", type=float, default=2.5, help="bayes+prev prior SD")
    args = parser.parse_args()
    if args.subjects is None:
        args.subjects = 200 if args.quick else 1000

    population_summary(args.subjects, args.seed)
    rng = random.Random(args.seed)
    population = [(rng.randrange(1 << 30), rng.uniform(40.0, 80.0)) for _ in range(args.subjects)]
    factories = methods(args.spread)
    tallies = {name: Tally() for name in factories}
    informations: list[float] = []
    amplitude_informations: list[float] = []
    bayes = BayesTally()
    oracle = BayesTally()
    previous = BayesTally()
    no_previous = 0
    BayesAmplitude()  # builds the likelihood tables once, outside the timed decisions
    started = time.perf_counter()
    for seed, true_rmt in population:
        informations.append(best_information(VirtualSubject(true_rmt, seed), true_rmt))
        amplitude_informations.append(amplitude_information(VirtualSubject(true_rmt, seed)))
        run_bayes(VirtualSubject(true_rmt, seed), args.bayes_pulses, bayes)
        if not args.no_oracle:
            run_bayes(VirtualSubject(true_rmt, seed), 20, oracle, oracle=True)
        if not args.no_previous:
            subject = VirtualSubject(true_rmt, seed)
            prior = previous_prior(subject, seed, args.day_sd, args.prior_sd)
            no_previous += prior is None
            run_bayes(subject, args.bayes_pulses, previous, prior=prior)
        start = min(100, round(1.2 * true_rmt))
        for name, factory in factories.items():
            subject = VirtualSubject(true_rmt, seed)
            result = hunt(factory(start), subject, clock=VirtualClock(), rng=random.Random(seed))
            tally = tallies[name]
            tally.pulses.append(result.pulses)
            if result.rmt is None:
                tally.failed += 1
                continue
            tally.errors.append(result.rmt - true_rmt)
    elapsed = time.perf_counter() - started

    print(
        f"{args.subjects} virtual subjects (Goetz 2019 three-source model), true RMT 40-80 % MSO,"
        f" ML-PEST spread {args.spread:g} % MSO; {elapsed:.1f} s"
    )
    header = (
        f"{'method':<22} {'med|e|':>6} {'p90|e|':>6} {'bias':>6} {'<=2%':>6} "
        f"{'pulses med':>10} {'p90':>4} {'max':>4} {'no-rmt':>6}"
    )
    print(header)
    print("-" * len(header))
    errors, pulses = bayes.default_stop(3.0, 5, 20)
    tallies["bayes-amplitude"] = Tally(errors, pulses)
    for n in (10, 15, 20, 30, args.bayes_pulses):
        if n <= args.bayes_pulses:
            tallies[f"bayes {n}"] = Tally(bayes.errors_at(n), [n] * args.subjects)
    if oracle.histories:
        tallies["bayes, shape known"] = Tally(oracle.errors_at(20), [20] * args.subjects)
    if previous.histories:
        errors, pulses = previous.default_stop(3.0, 5, 20)
        tallies["bayes+prev (default)"] = Tally(errors, pulses)
        for n in (10, 15, 20, 30):
            if n <= args.bayes_pulses:
                tallies[f"bayes+prev {n}"] = Tally(previous.errors_at(n), [n] * args.subjects)
    for name, tally in tallies.items():
        absolute = [abs(e) for e in tally.errors]
        share = within_2(tally.errors, args.subjects)
        print(
            f"{name:<22} {statistics.median(absolute):>6.2f} {quantile(absolute, 0.9):>6.2f} "
            f"{statistics.fmean(tally.errors):>+6.2f} {share:>6.1%} "
            f"{statistics.median(tally.pulses):>10g} {quantile(tally.pulses, 0.9):>4g} "
            f"{max(tally.pulses):>4d} {tally.failed:>6d}"
        )
    print("\nideal binary observer (Cramer-Rao bound, curve shape known) beside ML-PEST:")
    for budget in (20, 30, 40):
        measured = within_2(tallies[f"ml-pest {budget}"].errors, args.subjects)
        print(
            f"  {budget} pulses: bound {bound_share(informations, budget):.0%}, "
            f"ML-PEST {measured:.0%} within 2 % MSO"
        )
    needed = next((n for n in range(20, 201) if bound_share(informations, n) >= 0.9), None)
    print(f"  fewest pulses for which the bound reaches 90 %: {needed if needed else '> 200'}")
    ml = tallies["ml-pest 20"].errors
    share = within_2(ml, args.subjects)
    ideal = bound_share(informations, 20)
    verdict = "met" if share >= 0.9 else "MISSED"
    if share < 0.9 and ideal < 0.9:
        verdict += f"; no binary method can reach it in this model: bound {ideal:.0%}"
    print(
        f"\ntarget ML-PEST <= 2 % MSO for 90 % in <= 20 pulses: {share:.0%} "
        f"({verdict}; p90 |error| {quantile([abs(e) for e in ml], 0.9):.2f} % MSO)"
    )
    bayes_summary(bayes, informations, amplitude_informations, args.subjects, args.bayes_pulses)
    pulses_needed(tallies, bayes, previous, informations, amplitude_informations, args)
    if previous.histories:
        share = within_2(previous.errors_at(20), args.subjects)
        print(
            f"  bayes+prev (NOT generic: prior from an earlier day's recorded RMT, drift SD "
            f"{args.day_sd:g}, prior SD {args.prior_sd:g} % MSO): {share:.1%} within 2 % MSO at "
            f"20 pulses; {no_previous} subjects without an earlier RMT (flat prior)"
        )
    if oracle.histories:
        known = within_2(oracle.errors_at(20), args.subjects)
        print(
            f"  with each subject's own curve as the only prior shape (an oracle): {known:.1%} "
            "within 2 % MSO at 20 pulses"
        )


def pulses_needed(
    tallies: dict[str, Tally],
    bayes: BayesTally,
    previous: BayesTally,
    informations: Sequence[float],
    amplitude_informations: Sequence[float],
    args: argparse.Namespace,
) -> None:
    """The first pulse budget at which each method puts 90 % / 95 % within 2 % MSO."""
    n, budget = args.subjects, args.bayes_pulses
    print("\npulses for 90 % / 95 % of subjects within 2 % MSO:")
    rows: list[tuple[str, Callable[[int], float], int]] = [
        ("bayes-amplitude", lambda k: within_2(bayes.errors_at(k), n), budget),
    ]
    if previous.histories:
        rows.append(
            ("bayes+prev (not generic)", lambda k: within_2(previous.errors_at(k), n), budget)
        )
    rows += [
        ("ideal amplitude observer", lambda k: bound_share(amplitude_informations, k), 200),
        ("ideal binary observer", lambda k: bound_share(informations, k), 200),
    ]
    for name, share_at, upto in rows:
        found = [first_reaching(share_at, target, upto) for target in (0.9, 0.95)]
        text = " / ".join(str(f) if f else f"> {upto}" for f in found)
        print(f"  {name:<26} {text}")
    budgets = (20, 30, 40)
    found_ml = []
    for target in (0.9, 0.95):
        first = next(
            (b for b in budgets if within_2(tallies[f"ml-pest {b}"].errors, n) >= target), None
        )
        below = max((b for b in budgets if first is None or b < first), default=None)
        found_ml.append(
            f"> {budgets[-1]}"
            if first is None
            else (f"{below + 1}-{first}" if below else f"<= {first}")
        )
    print(f"  {'ml-pest (budgets 20/30/40)':<26} {' / '.join(found_ml)}")


def bayes_summary(
    bayes: BayesTally,
    informations: Sequence[float],
    amplitude_informations: Sequence[float],
    subjects: int,
    budget: int,
) -> None:
    print("\nbayes-amplitude (fixed budget, no early stop) beside both ideal observers:")
    for n in (10, 15, 20, 30, budget):
        if n > budget:
            continue
        print(
            f"  {n:>2} pulses: bayes-amplitude {within_2(bayes.errors_at(n), subjects):.1%}"
            f" within 2 % MSO, 90 % interval covers the truth in {bayes.coverage_at(n):.0%};"
            f" amplitude bound {bound_share(amplitude_informations, n):.1%},"
            f" binary bound {bound_share(informations, n):.1%}"
        )
    times = [1000 * t for t in bayes.decisions_s]
    print(
        f"  decision time per pulse: median {statistics.median(times):.1f} ms, "
        f"p99 {quantile(times, 0.99):.1f} ms, max {max(times):.1f} ms (target < 20 ms)"
    )
    share = within_2(bayes.errors_at(20), subjects)
    verdict = "met" if share >= 0.9 else f"MISSED by {0.9 - share:.1%}"
    print(
        f"\ntarget bayes-amplitude <= 2 % MSO for 90 % in <= 20 pulses: {share:.1%} ({verdict};"
        " an unbiased observer that knew each curve:"
        f" {bound_share(amplitude_informations, 20):.1%})"
    )


if __name__ == "__main__":
    main()
