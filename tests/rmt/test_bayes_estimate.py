"""bayes-amplitude's estimate and its optional threshold prior (issue 19 item 1; ADR 0034).

The estimate is the centre of the 4 % MSO window of most posterior mass (the Bayes rule
for "within 2 % MSO"); a normal prior on T (e.g. the subject's latest recorded RMT) is
optional and labelled in the result.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.virtual_subject import VirtualSubject
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, ExitCode
from stimctl.rmt import HuntLimits, MepReading, hunt
from stimctl.rmt.methods.bayes_amplitude import BayesAmplitude, ThresholdPrior, window_centre
from tests.rmt.test_bayes_amplitude import READING, Replayed
from tests.rmt.test_hunt_cli import rmt
from tests.rmt.test_hunt_cli import run as run_cli

GRID = np.linspace(40.0, 80.0, 161)  # 0.25 % MSO steps, as the method's grid


def held(centre_index: int, mass: np.ndarray) -> float:
    """Mass within +-2 % MSO of GRID[centre_index], the two end cells counted half."""
    total = 0.0
    for i, t in enumerate(GRID):
        gap = abs(t - GRID[centre_index])
        if gap < 2.0 - 1e-9:
            total += mass[i]
        elif gap < 2.0 + 1e-9:
            total += 0.5 * mass[i]
    return total


def test_the_window_estimate_is_not_the_median_on_a_skewed_posterior() -> None:
    """A spike of 0.35 at 50 % MSO and 0.65 spread evenly over 53-73: the median is about
    57.5, the mode 50; the 4 % MSO window holding the most mass reaches from the spike to
    the start of the spread, centred at 51.75 (mass 0.35 + 3.5 cells of the spread)."""
    mass = np.zeros_like(GRID)
    mass[GRID == 50.0] = 0.35
    spread = (GRID >= 53.0) & (GRID <= 73.0)
    mass[spread] = 0.65 / spread.sum()
    centre = window_centre(GRID, mass)
    assert centre == 51.75
    median = float(np.interp(0.5, np.cumsum(mass), GRID))
    assert median > 56.0
    best = max(held(i, mass) for i in range(len(GRID)))
    assert held(int(np.flatnonzero(centre == GRID)[0]), mass) == pytest.approx(best)
    assert best == pytest.approx(0.35 + 3.5 * 0.65 / spread.sum())


def test_a_flat_posterior_gives_its_middle_not_an_edge() -> None:
    assert window_centre(GRID, np.full_like(GRID, 1 / len(GRID))) == 60.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=len(GRID), max_size=len(GRID)))
def test_the_window_estimate_holds_the_most_mass(weights: list[float]) -> None:
    mass = np.array(weights)
    if mass.sum() == 0:
        mass[0] = 1.0
    mass /= mass.sum()
    centre = window_centre(GRID, mass)
    index = int(np.flatnonzero(centre == GRID)[0])
    assert held(index, mass) >= max(held(i, mass) for i in range(len(GRID))) - 1e-9


@pytest.mark.parametrize(
    ("centre", "sd"),
    [(math.nan, 2.0), (0.0, 2.0), (101.0, 2.0), (60.0, 0.0), (60.0, 0.4), (60.0, math.inf)],
)
def test_a_bad_threshold_prior_is_refused(centre: float, sd: float) -> None:
    with pytest.raises(ConfigError, match="threshold prior"):
        ThresholdPrior(centre, sd)


def test_the_prior_pulls_the_same_readings_towards_its_centre() -> None:
    readings = [MepReading(amplitude_uv=a) for a in (12.0, 40.0, 70.0, 300.0, 9.0)]
    # a method has no public way to take a reading at an intensity it did not propose
    flat = hunt(BayesAmplitude(ci_width=None), Replayed(readings), clock=VirtualClock())
    # The same readings at the same intensities: replay the flat hunt's intensities.
    prior = BayesAmplitude(ci_width=None, prior=ThresholdPrior(75.0, 2.5))
    for record in flat.trace:
        prior._pending = record.intensity  # the flat hunt's intensities, not its own
        prior.observe(MepReading(amplitude_uv=record.amplitude_uv))
    assert flat.rmt is not None and prior.estimate is not None
    assert abs(prior.estimate - 75.0) < abs(flat.rmt - 75.0)
    assert "threshold prior N(75, 2.5)" in prior.result().criterion


def test_the_first_pulse_with_a_prior_goes_near_its_centre() -> None:
    assert abs(BayesAmplitude(prior=ThresholdPrior(45.0, 2.5)).next_intensity() - 45) <= 5
    assert abs(BayesAmplitude(prior=ThresholdPrior(75.0, 2.5)).next_intensity() - 75) <= 5


def test_an_earlier_days_threshold_makes_the_hunt_better_on_these_subjects() -> None:
    """12 subjects, each measured on an earlier day 1.5 % MSO higher: with that RMT as
    prior, the summed absolute error at 20 pulses is lower than without."""
    flat_errors, prior_errors = [], []
    for i in range(12):
        truth = 45.0 + 2.5 * i
        subject = VirtualSubject(truth, 100 + i)
        earlier = VirtualSubject(truth + 1.5, 200 + i, params=subject.params)
        before = hunt(BayesAmplitude(), earlier, clock=VirtualClock()).rmt
        assert before is not None
        flat = hunt(
            BayesAmplitude(ci_width=None),
            VirtualSubject(truth, 300 + i, params=subject.params),
            clock=VirtualClock(),
        )
        again = hunt(
            BayesAmplitude(ci_width=None, prior=ThresholdPrior(before, 2.5)),
            VirtualSubject(truth, 300 + i, params=subject.params),
            clock=VirtualClock(),
        )
        assert flat.rmt is not None and again.rmt is not None
        flat_errors.append(abs(flat.rmt - truth))
        prior_errors.append(abs(again.rmt - truth))
    assert sum(prior_errors) < sum(flat_errors)


PRIORS = st.one_of(
    st.none(),
    st.builds(ThresholdPrior, st.floats(0.5, 100.0), st.floats(0.5, 50.0)),
)


@settings(max_examples=60, deadline=None)
@given(
    cap=st.integers(min_value=1, max_value=100),
    floor_fraction=st.floats(min_value=0, max_value=1),
    max_pulses=st.integers(min_value=1, max_value=30),
    readings=st.lists(READING, min_size=1, max_size=25),
    prior=PRIORS,
)
def test_with_any_prior_never_beyond_the_limits_and_the_cap_kept(
    cap: int,
    floor_fraction: float,
    max_pulses: int,
    readings: list[MepReading],
    prior: ThresholdPrior | None,
) -> None:
    floor = 1 + round(floor_fraction * (cap - 1))
    limits = HuntLimits(max_intensity=cap, min_intensity=floor, max_pulses=max_pulses)
    source = Replayed(readings)
    result = hunt(BayesAmplitude(limits=limits, prior=prior), source, clock=VirtualClock())
    assert all(floor <= x <= cap for x in source.asked)
    assert 1 <= result.pulses <= max_pulses
    for record in result.trace:
        assert record.estimate is None or math.isfinite(record.estimate)
    if result.rmt is not None:
        assert floor <= result.rmt <= cap
        assert result.interval is not None


# -- the CLI: --prior-from-records -----------------------------------------------------


def _with_thresholds(*records: tuple[float, str, str | None]) -> None:
    from stimctl.records import Store, ThresholdRecord, add_subject, record_threshold

    with Store.open() as store:
        add_subject(store, "S07")
        for day, (value, muscle, device) in enumerate(records, start=1):
            record_threshold(
                store,
                ThresholdRecord(
                    "S07", value, "emg", dt.date(2026, 11, day), device=device, muscle=muscle
                ),
            )


def test_cli_uses_the_latest_recorded_rmt_as_prior(capsys: pytest.CaptureFixture[str]) -> None:
    _with_thresholds((48.0, "FDI", None), (61.0, "FDI", None), (40.0, "APB", None))
    code, out, _ = run_cli(
        capsys, "S07", "--method", "bayes-amplitude", "--virtual-rmt", "60", "--seed", "5",
        "--speed", "max", "--prior-from-records", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK
    assert data["prior"]["percent_mso"] == 61.0 and data["prior"]["sd"] == 2.5
    assert data["prior"]["measured_on"] == "2026-11-02"
    assert "threshold prior N(61, 2.5)" in data["criterion"]
    assert abs(data["rmt"] - 60) <= 3


@pytest.mark.parametrize(
    ("records", "extra", "message"),
    [
        ((), (), "S07 has no recorded RMT of the FDI muscle"),
        (((50.0, "hand", None),), (), "S07 has no recorded RMT of the FDI muscle"),
        (((50.0, "FDI", None),), ("--method", "ml-pest"), "only for --method bayes-amplitude"),
        (((50.0, "FDI", None),), ("--type", "amt"), "only for --method bayes-amplitude"),
        (
            ((50.0, "FDI", "magstim-rapid2-standard-240v"),),
            ("--device", "magpro-x100"),
            "was measured on magstim-rapid2-standard-240v, this hunt uses magpro-x100",
        ),
    ],
)
def test_cli_refuses_a_prior_it_cannot_have(
    capsys: pytest.CaptureFixture[str],
    records: tuple[tuple[float, str, str | None], ...],
    extra: tuple[str, ...],
    message: str,
) -> None:
    """Asked for a prior that is not there (or does not fit): one clear refusal, exit 2,
    before any pulse; never a hunt without the prior the operator asked for."""
    _with_thresholds(*records)
    args = ["S07", "--method", "bayes-amplitude", "--virtual-rmt", "60", "--speed", "max"]
    args += ["--prior-from-records", *extra]
    with pytest.raises(ConfigError, match=message) as refused:
        rmt.main(args=["hunt", *args], prog_name="rmt", standalone_mode=False)
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    assert capsys.readouterr().out == ""


def test_cli_prior_sd_needs_the_prior(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "S07", "--method", "bayes-amplitude", "--virtual-rmt", "60", "--speed", "max",
        "--prior-sd", "3",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT and out == ""


@settings(max_examples=25, deadline=None)
@given(readings=st.lists(READING, min_size=3, max_size=8))
def test_a_reading_is_expected_to_leave_no_less_mass_in_the_window(
    readings: list[MepReading],
) -> None:
    """The placement score is E_b[max_c P(T in window(c) | b)]: never below the best
    window's mass now (a reading cannot be expected to hurt), never above 1."""
    method = BayesAmplitude(ci_width=None, limits=HuntLimits(max_pulses=30))
    for reading in readings:
        if method.done:  # the readings put T beyond a limit: nothing left to place
            return
        method.next_intensity()
        method.observe(reading)
    candidates = list(range(30, 91, 5))
    t, p_t, _ = method._outcomes(candidates)
    inside = np.abs(t[:, None] - t[None, :]) <= 2.0
    now = float((inside @ p_t).max())
    score = method.expected_window_mass(candidates)
    # the design tables are single precision: a reading's probabilities sum to 1 +- 3e-7
    assert np.all(score >= now - 1e-6) and np.all(score <= 1.0 + 1e-6)
