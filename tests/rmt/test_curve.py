"""Recruitment curves (issue 19 item 2): plan, caps, pacing, Boltzmann fit, CLI, report."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.virtual_subject import VirtualSubject, make_source
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, ExitCode
from stimctl.rmt.curve import CurvePlan, fit_boltzmann, run_curve
from stimctl.rmt.readings import MepReading
from stimctl.rmt.registry import VIRTUAL, register_mep_source, unregister_mep_source
from stimctl.rmt.runner import MIN_ALLOWED_INTERVAL_S
from tests.rmt.helpers import ConstantSubject, ScriptedSubject


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_recovers_known_boltzmann_parameters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plateau, s50, k = 2000.0, 65.0, 4.0
    x = np.repeat(np.arange(50.0, 91.0, 5.0), 10)
    clean = plateau / (1.0 + np.exp((s50 - x) / k))
    noisy = clean * 10.0 ** rng.normal(0.0, 0.1, size=x.size)  # MEPs vary multiplicatively
    fit = fit_boltzmann(x.tolist(), noisy.tolist())
    assert fit.s50 == pytest.approx(s50, abs=1.5)
    assert fit.k == pytest.approx(k, rel=0.3)
    assert fit.plateau_uv == pytest.approx(plateau, rel=0.15)
    assert fit.max_slope_uv_per_percent == pytest.approx(plateau / (4 * k), rel=0.35)


def test_a_level_above_the_cap_refuses_the_plan_and_names_it() -> None:
    with pytest.raises(ConfigError, match=r"150 % RMT = 90 % MSO"):
        CurvePlan(60.0, max_intensity=85)


def test_the_schedule_is_every_level_per_level_times_in_random_order() -> None:
    plan = CurvePlan(57.0, (90, 110, 130), per_level=4)
    assert plan.intensities() == [51, 63, 74]  # whole % MSO, half up (51.3, 62.7, 74.1)
    first, second = plan.schedule(random.Random(1)), plan.schedule(random.Random(2))
    assert sorted(first) == sorted(second) == sorted([51, 63, 74] * 4)
    assert first != second


def test_yes_no_readings_are_refused() -> None:
    with pytest.raises(ConfigError, match="amplitudes"):
        run_curve(CurvePlan(50.0), ScriptedSubject([True]), clock=VirtualClock())


@settings(max_examples=60, deadline=None)
@given(
    rmt=st.floats(min_value=20.0, max_value=100.0),
    levels=st.lists(st.integers(min_value=50, max_value=200), min_size=3, max_size=8),
    per_level=st.integers(min_value=1, max_value=4),
    cap=st.integers(min_value=1, max_value=100),
)
def test_never_above_the_cap_and_paced(
    rmt: float, levels: list[int], per_level: int, cap: int
) -> None:
    try:
        plan = CurvePlan(rmt, tuple(levels), per_level, cap)
    except ConfigError:
        assert any(math.floor(v * rmt / 100 + 0.5) > cap for v in levels)
        return
    fired: list[int] = []
    clock = VirtualClock()
    source = ConstantSubject(100.0)
    try:
        result = run_curve(plan, source, clock=clock, stimulate=fired.append)
    except ConfigError:  # a fit on fewer than three intensities is refused, after the pulses
        assert len(set(plan.intensities())) < 3
    else:
        times = [p.time_s for p in result.pulses]
        assert all(b - a >= MIN_ALLOWED_INTERVAL_S for a, b in itertools.pairwise(times))
    assert all(x <= cap for x in fired) and len(fired) == len(levels) * per_level


def test_a_curve_on_the_virtual_subject_rises_above_threshold() -> None:
    plan = CurvePlan(55.0, per_level=8)
    result = run_curve(plan, VirtualSubject(55.0, 7), clock=VirtualClock(), rng=random.Random(7))
    fit = result.fit
    assert 55.0 <= fit.s50 <= 55.0 * 1.6
    assert fit.plateau_uv > 200.0 and fit.k > 0
    assert fit.mep_uv(80) > fit.mep_uv(55)


@pytest.fixture
def virtual_source() -> Iterator[None]:
    register_mep_source(VIRTUAL, make_source)
    yield
    unregister_mep_source(VIRTUAL)


@pytest.mark.usefixtures("virtual_source")
def test_cli_curve_writes_json_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    args = ["curve", "S01", "--virtual-rmt", "60", "--seed", "4", "--speed", "max",
            "--out", str(tmp_path), "--json"]  # fmt: skip
    code = rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)
    assert code == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    stored = json.loads((tmp_path / "S01-curve.json").read_text())
    assert stored == data
    assert len(data["pulses"]) == 35 and max(p["intensity"] for p in data["pulses"]) == 90
    assert data["fit"]["s50"] > 0 and data["fit"]["plateau_uv"] > 0
    report = (tmp_path / "S01-curve.html").read_text()
    assert "<svg" in report and "S50" in report and "<script" not in report


def test_cli_curve_needs_a_threshold() -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    with pytest.raises(ConfigError, match="--rmt"):
        rmt_group.main(args=["curve", "S01", "--amplitudes", "x.txt"], standalone_mode=False)


def test_replayed_amplitudes_are_used_in_delivery_order(tmp_path: Path) -> None:
    values = [10.0 + 5 * i for i in range(21)]
    path = tmp_path / "amps.txt"
    path.write_text("\n".join(f"{v}" for v in values) + "\n")
    from stimctl.rmt import FileSource

    plan = CurvePlan(50.0, (90, 110, 130), per_level=7)
    result = run_curve(plan, FileSource(path), clock=VirtualClock(), rng=random.Random(0))
    assert [p.amplitude_uv for p in result.pulses] == values


def test_a_replayed_curve_is_stored_with_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group
    from stimctl.records import Store, add_subject
    from stimctl.rmt.curve_store import list_curves

    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    with Store.open() as store:
        add_subject(store, "S07")
    path = tmp_path / "amps.txt"
    path.write_text("\n".join(str(20.0 + 40 * i) for i in range(21)) + "\n")
    args = ["curve", "S07", "--rmt", "50", "--levels", "90,110,130", "--per-level", "7",
            "--amplitudes", str(path), "--speed", "max", "--store", "--json"]  # fmt: skip
    assert rmt_group.main(args=args, prog_name="rmt", standalone_mode=False) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    with Store.open() as store:
        (stored,) = list_curves(store, "S07")
    assert stored.id == data["stored"] and stored.pulses == 21 and stored.source == "replay"
    assert stored.s50 == pytest.approx(data["fit"]["s50"], abs=0.01)


def test_a_virtual_curve_is_never_stored() -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    args = ["curve", "S07", "--virtual-rmt", "50", "--speed", "max", "--store"]
    with pytest.raises(ConfigError, match="never stored"):
        rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)


# --- adaptive placement (FIM-SPE style) ---------------------------------------------------


class BoltzmannSubject:
    """Known Boltzmann parameters, MEPs varying multiplicatively (0.1 decades)."""

    def __init__(self, seed: int, plateau: float = 2000.0, s50: float = 65.0, k: float = 4.0):
        self.rng = np.random.default_rng(seed)
        self.plateau, self.s50, self.k = plateau, s50, k

    def response(self, intensity_percent_mso: int) -> MepReading:
        clean = self.plateau / (1.0 + math.exp((self.s50 - intensity_percent_mso) / self.k))
        return MepReading(amplitude_uv=clean * 10.0 ** self.rng.normal(0.0, 0.1))


def _rms_errors(plan: CurvePlan, seeds: range) -> tuple[float, float, float]:
    s50, k, plateau = [], [], []
    for seed in seeds:
        subject = BoltzmannSubject(seed)
        fit = run_curve(plan, subject, clock=VirtualClock(), rng=random.Random(seed)).fit
        s50.append((fit.s50 - subject.s50) ** 2)
        k.append(((fit.k - subject.k) / subject.k) ** 2)
        plateau.append(((fit.plateau_uv - subject.plateau) / subject.plateau) ** 2)
    return tuple(float(np.sqrt(np.mean(e))) for e in (s50, k, plateau))  # type: ignore[return-value]


def test_adaptive_placement_recovers_known_parameters_with_fewer_pulses() -> None:
    """28 adaptively placed pulses recover S50 and k at least as well as the randomised
    set of 35 (7 levels x 5) over the same 60 subjects, and the plateau within 15 %."""
    seeds = range(100, 160)
    randomised = _rms_errors(CurvePlan(55.0, per_level=5), seeds)
    adaptive = _rms_errors(CurvePlan(55.0, adaptive_pulses=28), seeds)
    assert adaptive[0] <= randomised[0] and adaptive[0] < 1.5  # S50, % MSO
    assert adaptive[1] <= randomised[1] and adaptive[1] < 0.2  # k, relative
    assert adaptive[2] < 0.15  # plateau, relative


def test_adaptive_placement_starts_with_every_level_and_stays_in_their_range() -> None:
    plan = CurvePlan(55.0, adaptive_pulses=20)
    result = run_curve(plan, BoltzmannSubject(3), clock=VirtualClock(), rng=random.Random(3))
    delivered = [p.intensity for p in result.pulses]
    assert len(delivered) == 20 and sorted(delivered[:7]) == plan.intensities()
    assert all(min(plan.intensities()) <= x <= max(plan.intensities()) for x in delivered)


def test_an_adaptive_curve_shorter_than_its_levels_is_refused() -> None:
    with pytest.raises(ConfigError, match="adaptive curve needs 7-300 pulses"):
        CurvePlan(55.0, adaptive_pulses=6)


@settings(max_examples=40, deadline=None)
@given(
    rmt=st.floats(min_value=20.0, max_value=100.0),
    levels=st.lists(st.integers(min_value=50, max_value=200), min_size=3, max_size=7),
    extra=st.integers(min_value=0, max_value=12),
    cap=st.integers(min_value=1, max_value=100),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_adaptive_placement_never_exceeds_the_cap(
    rmt: float, levels: list[int], extra: int, cap: int, seed: int
) -> None:
    try:
        plan = CurvePlan(rmt, tuple(levels), 1, cap, adaptive_pulses=len(levels) + extra)
    except ConfigError:
        assert any(math.floor(v * rmt / 100 + 0.5) > cap for v in levels)
        return
    fired: list[int] = []
    subject = VirtualSubject(min(rmt, 90.0), seed)
    try:
        run_curve(plan, subject, clock=VirtualClock(), stimulate=fired.append,
                  rng=random.Random(seed))  # fmt: skip
    except ConfigError:  # a fit on fewer than three intensities is refused, after the pulses
        assert len(set(plan.intensities())) < 3
    assert all(x <= cap for x in fired) and len(fired) == len(levels) + extra
    assert all(min(plan.intensities()) <= x <= max(plan.intensities()) for x in fired)


@pytest.mark.usefixtures("virtual_source")
def test_cli_curve_adaptive_places_n_pulses_within_the_levels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    args = ["curve", "S01", "--virtual-rmt", "60", "--seed", "4", "--speed", "max",
            "--adaptive", "15", "--max-intensity", "90", "--json"]  # fmt: skip
    code = rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)
    assert code == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    intensities = [p["intensity"] for p in data["pulses"]]
    assert data["adaptive_pulses"] == 15 and len(intensities) == 15
    assert sorted(intensities[:7]) == [54, 60, 66, 72, 78, 84, 90]  # every level once first
    assert all(54 <= x <= 90 for x in intensities)
