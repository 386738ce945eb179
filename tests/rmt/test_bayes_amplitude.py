"""bayes-amplitude (issue 19 item 1): accuracy, calibration and caps on virtual subjects.

The statistical tests run the method on 60 seeded virtual subjects (true RMT 40-80 % MSO,
drawn as in bench/bench_rmt.py) and hold it to tolerances it meets with margin; the
figures on 1000 subjects are in the bench. Decision time is benchmarked, not tested.
"""

from __future__ import annotations

import json
import logging
import random
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from simulators.virtual_subject import VirtualSubject, make_source
from stimctl.cli.rmt_hunt_cmd import build_method
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, ExitCode
from stimctl.rmt import HuntLimits, MepReading, Outcome, hunt
from stimctl.rmt.methods.bayes_amplitude import BayesAmplitude
from stimctl.rmt.methods.goetz_prior import (
    Shape,
    build_tables,
    likelihood_tables,
)
from stimctl.rmt.registry import VIRTUAL, register_mep_source, unregister_mep_source
from tests.rmt.helpers import ConstantSubject
from tests.rmt.test_hunt_cli import run as run_cli

SUBJECTS = 60


@dataclass
class Population:
    truths: list[float] = field(default_factory=list)
    errors_at_20: list[float] = field(default_factory=list)
    covered_at_20: list[bool] = field(default_factory=list)
    default_errors: list[float] = field(default_factory=list)
    default_pulses: list[int] = field(default_factory=list)


@pytest.fixture(scope="module")
def population() -> Population:
    """60 seeded subjects: a 20-pulse hunt without early stop, and the default hunt."""
    rng = random.Random(19)
    out = Population()
    for _ in range(SUBJECTS):
        seed, true_rmt = rng.randrange(1 << 30), rng.uniform(40.0, 80.0)
        fixed = BayesAmplitude(ci_width=None)
        result = hunt(fixed, VirtualSubject(true_rmt, seed), clock=VirtualClock())
        assert result.rmt is not None and result.interval is not None
        out.truths.append(true_rmt)
        out.errors_at_20.append(result.rmt - true_rmt)
        out.covered_at_20.append(result.interval[0] <= true_rmt <= result.interval[1])
        default = hunt(BayesAmplitude(), VirtualSubject(true_rmt, seed), clock=VirtualClock())
        assert default.rmt is not None
        out.default_errors.append(default.rmt - true_rmt)
        out.default_pulses.append(default.pulses)
    return out


def test_most_subjects_within_2_percent_mso_in_20_pulses(population: Population) -> None:
    within = sum(abs(e) <= 2.0 for e in population.errors_at_20) / SUBJECTS
    # These 60: 90 %; 1000 in the bench: see ADR 0017. ML-PEST gets 80 % (ADR 0008).
    assert within >= 0.80


def test_estimates_are_unbiased(population: Population) -> None:
    # The SD of one error is about 1.3 % MSO, so the mean of 60 has an SD of about 0.17.
    assert abs(statistics.fmean(population.errors_at_20)) <= 0.5
    assert abs(statistics.median(population.errors_at_20)) <= 0.5


def test_the_90_percent_interval_covers_the_truth_at_about_its_rate(
    population: Population,
) -> None:
    coverage = sum(population.covered_at_20) / SUBJECTS
    assert 0.75 <= coverage <= 0.99


def test_the_default_stops_on_the_interval_width_or_at_20_pulses(population: Population) -> None:
    assert max(population.default_pulses) <= 20
    assert min(population.default_pulses) >= 5  # min_pulses
    within = sum(abs(e) <= 2.0 for e in population.default_errors) / SUBJECTS
    assert within >= 0.75


def test_a_stop_on_the_interval_reports_an_interval_within_the_width() -> None:
    method = BayesAmplitude(ci_width=4.0, limits=HuntLimits(max_pulses=60))
    result = hunt(method, VirtualSubject(55.0, 4), clock=VirtualClock())
    assert result.outcome is Outcome.CONVERGED and result.interval is not None
    assert result.pulses < 60
    assert result.interval[1] - result.interval[0] <= 4.0
    assert result.interval[0] <= result.rmt <= result.interval[1]  # type: ignore[operator]
    assert "credible interval" in result.reason


def test_the_likelihood_matches_the_virtual_subject_it_models() -> None:
    """The tables' threshold is the virtual subject's (P(MEP >= 50 µV) = 0.5)."""
    subject = VirtualSubject(60.0, 3)
    p = subject.params
    shape = Shape(p.p1, p.p2, p.p3, p.p4, p.p5, p.sigma_x, p.sigma_y, p.gev_scale_uv, p.gev_shape)
    tables = build_tables((shape,), 50.0)
    for r in (-4.0, 0.0, 3.0):
        row = tables.r_index(np.array([r]))[0]
        modelled = float(np.exp(tables.log_yes[row, 0]))
        assert modelled == pytest.approx(subject.response_probability(60.0 + r), abs=0.01)


@pytest.mark.parametrize("r", [-4.0, 0.0, 3.0])
def test_the_binned_amplitudes_match_the_virtual_subjects_for_a_steep_curve(r: float) -> None:
    """Seed 3 rises from 0.1 to 50 µV within about 4 % MSO. With the output-noise CDF
    taken at points of the drive grid, its modelled amplitudes were lumpy (total
    variation 0.06 from the simulated ones); averaged over each cell they match."""
    subject = VirtualSubject(60.0, 3)
    p = subject.params
    shape = Shape(p.p1, p.p2, p.p3, p.p4, p.p5, p.sigma_x, p.sigma_y, p.gev_scale_uv, p.gev_shape)
    tables = build_tables((shape,), 50.0)
    draws = np.array([subject.mep_uv(60.0 + r) for _ in range(20_000)])
    observed = np.bincount(
        np.searchsorted(tables.edges_uv, draws, side="right"), minlength=tables.bins.shape[2]
    ) / len(draws)
    modelled = tables.bins[tables.r_index(np.array([r]))[0], 0, :]
    assert 0.5 * np.abs(observed - modelled).sum() < 0.035


def test_no_response_up_to_the_cap_ends_at_the_cap_without_a_threshold() -> None:
    source = ConstantSubject(5.0)
    result = hunt(BayesAmplitude(limits=HuntLimits(max_intensity=70)), source, clock=VirtualClock())
    assert result.outcome is Outcome.INTENSITY_CAP and result.rmt is None
    assert max(source.asked) <= 70


def test_responses_down_to_the_floor_end_at_the_floor_without_a_threshold() -> None:
    source = ConstantSubject(900.0)
    result = hunt(BayesAmplitude(limits=HuntLimits(min_intensity=30)), source, clock=VirtualClock())
    assert result.outcome is Outcome.FLOOR and result.rmt is None
    assert min(source.asked) >= 30


@dataclass
class Replayed:
    """Amplitudes or yes/no from a list, cycling; ignores the intensity."""

    readings: list[MepReading]
    asked: list[int] = field(default_factory=list)

    def response(self, intensity_percent_mso: int) -> MepReading:
        reading = self.readings[len(self.asked) % len(self.readings)]
        self.asked.append(intensity_percent_mso)
        return reading


READING = st.one_of(
    st.floats(min_value=0.0, max_value=20_000.0).map(lambda a: MepReading(amplitude_uv=a)),
    st.booleans().map(lambda v: MepReading(visible=v)),
)


@settings(max_examples=60, deadline=None)
@given(
    cap=st.integers(min_value=1, max_value=100),
    floor_fraction=st.floats(min_value=0, max_value=1),
    max_pulses=st.integers(min_value=1, max_value=40),
    readings=st.lists(READING, min_size=1, max_size=25),
)
def test_never_above_the_cap_nor_below_the_floor(
    cap: int, floor_fraction: float, max_pulses: int, readings: list[MepReading]
) -> None:
    floor = 1 + round(floor_fraction * (cap - 1))
    limits = HuntLimits(max_intensity=cap, min_intensity=floor, max_pulses=max_pulses)
    source = Replayed(readings)
    fired: list[int] = []
    result = hunt(
        BayesAmplitude(limits=limits), source, clock=VirtualClock(), stimulate=fired.append
    )
    assert fired == source.asked == [p.intensity for p in result.trace]
    assert all(isinstance(x, int) and floor <= x <= cap for x in fired)
    assert 1 <= result.pulses <= max_pulses
    if result.rmt is not None:
        assert floor <= result.rmt <= cap
        assert result.interval is not None


def test_the_prior_is_a_constant_of_the_method() -> None:
    first, again = likelihood_tables(), likelihood_tables()
    assert first is again
    assert len(first.shapes) == first.log_bins.shape[1]
    assert np.allclose(np.exp(first.log_bins).sum(axis=2), 1.0)


@pytest.fixture
def virtual_source() -> Iterator[None]:
    register_mep_source(VIRTUAL, make_source)
    yield
    unregister_mep_source(VIRTUAL)


@pytest.mark.usefixtures("virtual_source")
def test_cli_hunt_with_bayes_amplitude(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "S01", "--method", "bayes-amplitude", "--virtual-rmt", "60", "--seed", "5",
        "--speed", "max", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == ExitCode.OK
    assert data["method"] == "bayes-amplitude" and data["outcome"] == "converged"
    assert abs(data["rmt"] - 60) <= 3
    low, high = data["interval_90"]
    assert low <= data["rmt"] <= high
    assert 5 <= data["pulses"] <= 20
    assert all(isinstance(p["intensity"], int) for p in data["trace"])


@pytest.mark.usefixtures("virtual_source")
def test_cli_refuses_an_active_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "S01", "--method", "bayes-amplitude", "--type", "amt", "--virtual-rmt", "60",
        "--speed", "max",
    )  # fmt: skip
    assert code == ExitCode.BAD_INPUT and out == ""  # refused before any pulse
    with pytest.raises(ConfigError, match="resting muscle"):
        build_method(
            "bayes-amplitude", start=None, max_intensity=100, min_intensity=20, max_pulses=None,
            kind="amt",
        )  # fmt: skip


@pytest.mark.usefixtures("virtual_source")
def test_console_hunt_through_the_simulated_magpro(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The threshold screen runs bayes-amplitude like the other methods: through the
    MagPro's driver into its simulator, the device disarmed at the end, the cap kept."""
    from textual.pilot import Pilot

    from stimctl.console.threshold import HuntEnd, ThresholdApp
    from tests.console.test_threshold import MAGPRO, cli, until

    caplog.set_level(logging.CRITICAL)
    seen: list[ThresholdApp] = []
    original_run = ThresholdApp.run

    async def operator(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ThresholdApp)
        seen.append(app)
        await until(pilot, lambda: app.query_one("#result").display, "the result")
        await pilot.press("q")

    def headless_run(self: ThresholdApp, **_: Any) -> HuntEnd | None:
        return original_run(self, headless=True, size=(100, 40), auto_pilot=operator)

    mocker.patch.object(ThresholdApp, "run", headless_run)
    code = cli(
        "S01", "--method", "bayes-amplitude", "--device", MAGPRO, "--virtual-rmt", "52",
        "--seed", "3", "--max-intensity", "75", "--speed", "max", "--console",
    )  # fmt: skip
    out = capsys.readouterr().out
    (app,) = seen
    assert code == ExitCode.OK
    assert app.end is not None and app.end.result is not None and app.end.disarmed is True
    assert all(record.intensity <= 75 for record in app.records)
    assert f"RMT {app.end.result.rmt:g} % MSO" in out
