"""Paired pulses (issue 19 item 3): the plan's rules for the conditioning pulse, the
randomised trials, the ratio recovered on a virtual subject with a known inhibition, and
the BiStim² driven through its driver with both outputs and the interval checked."""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.virtual_subject import VirtualSubject
from stimctl.clock import SimulatedClock, VirtualClock
from stimctl.device_profiles import load_profile
from stimctl.errors import ConfigError, ExitCode, OutputStateMismatch, SafetyViolation
from stimctl.journal import journals_dir, read, verify
from stimctl.rmt.device import open_hunt_device
from stimctl.rmt.paired import PairedPlan, Trial, run_paired, summarise
from stimctl.rmt.paired_device import PairedStimulus
from stimctl.rmt.runner import PulseInterval
from stimctl.rmt.simulator_source import SimulatorPairedSource
from stimctl.rmt.sources import OperatorSource
from tests.rmt.helpers import ConstantSubject

BISTIM = "magstim-bistim"


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("CRITICAL")


# --- the rules for the conditioning pulse ------------------------------------------------

REFUSED = [
    # (kwargs, rule or message): each a source-backed rule of stimctl.rmt.paired
    ({"conditioning_percent": 100.0}, "subthreshold"),  # CS at the RMT (Kujirai 1993)
    ({"conditioning_percent": 120.0}, "subthreshold"),
    ({"reference": "amt", "amt": 40.0, "conditioning_percent": 100.0}, "subthreshold"),
    ({"reference": "amt", "amt": 70.0, "conditioning_percent": 95.0}, "RMT"),  # AMT > RMT
    ({"interval_ms": 0.5}, "interval"),
    ({"interval_ms": 6.0}, "interval"),
    ({"paradigm": "icf", "interval_ms": 5.0}, "interval"),
    ({"paradigm": "icf", "interval_ms": 25.0}, "interval"),
    ({"test_percent_rmt": 70.0}, "below the test"),
    ({"test_percent_rmt": 150.0, "max_intensity": 80}, "above the intensity cap"),
    ({"reference": "amt"}, "needs the AMT"),
]


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_the_plan_refuses_a_conditioning_pulse_against_the_rules(
    changes: dict[str, object], message: str
) -> None:
    kwargs: dict[str, object] = {"paradigm": "sici", "rmt": 60.0, "conditioning_percent": 80.0}
    kwargs.update(changes)
    with pytest.raises((ConfigError, SafetyViolation), match=message):
        PairedPlan(**kwargs)  # type: ignore[arg-type]


def test_default_intervals_are_inside_each_paradigm() -> None:
    assert PairedPlan("sici", 60.0, 80.0).interval == 3.0
    assert PairedPlan("icf", 60.0, 80.0).interval == 12.0


def test_the_schedule_has_each_kind_trials_times_in_random_order() -> None:
    plan = PairedPlan("sici", 50.0, 80.0, trials=12)
    first = plan.schedule(random.Random(1))
    second = plan.schedule(random.Random(2))
    assert sum(t.conditioned for t in first) == 12 and len(first) == 24
    assert [t.conditioned for t in first] != [t.conditioned for t in second]
    assert all(t.conditioning == 40 and t.test == 60 for t in first if t.conditioned)
    assert all(t.conditioning is None and t.first_output == 60 for t in first if not t.conditioned)


@settings(max_examples=60, deadline=None)
@given(
    rmt=st.floats(min_value=20.0, max_value=100.0),
    cs=st.floats(min_value=1.0, max_value=130.0),
    ts=st.floats(min_value=50.0, max_value=200.0),
    cap=st.integers(min_value=1, max_value=100),
    interval=st.floats(min_value=0.0, max_value=30.0),
)
def test_caps_and_the_subthreshold_rule_are_never_exceeded(
    rmt: float, cs: float, ts: float, cap: int, interval: float
) -> None:
    try:
        plan = PairedPlan("sici", rmt, cs, ts, interval, 2, max_intensity=cap)
    except (ConfigError, SafetyViolation):
        return
    fired: list[Trial] = []
    run_paired(plan, ConstantSubject(500.0), clock=VirtualClock(), fire=fired.append)
    assert len(fired) == 4
    for trial in fired:
        assert trial.test <= cap and trial.first_output <= cap
        if trial.conditioned:
            assert trial.conditioning is not None
            assert trial.conditioning < rmt and trial.conditioning < trial.test
            assert 1.0 <= trial.interval_ms <= 5.0


# --- the ratio --------------------------------------------------------------------------


def test_summary_is_the_ratio_of_means_with_an_interval_around_it() -> None:
    s = summarise([50.0, 70.0, 60.0], [100.0, 140.0, 120.0], seed=1)
    assert s.ratio == pytest.approx(0.5)
    assert s.ratio_interval[0] < 0.5 < s.ratio_interval[1]
    assert s.conditioned_mean_uv == pytest.approx(60.0)
    assert s.unconditioned_sd_uv == pytest.approx(20.0)


@pytest.mark.parametrize(("paradigm", "known"), [("sici", 0.4), ("icf", 1.6)], ids=["sici", "icf"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ratio_is_recovered_on_a_virtual_subject_with_a_known_term(
    paradigm: str, known: float, seed: int
) -> None:
    subject = VirtualSubject(50.0, seed, sici_ratio=0.4, icf_ratio=1.6)
    plan = PairedPlan(paradigm, 50.0, 80.0, trials=60)  # type: ignore[arg-type]
    result = run_paired(plan, subject, clock=VirtualClock(), rng=random.Random(seed))
    s = result.summary
    # 60 trials of each kind; MEPs at 120 % RMT vary about 60-80 % (CV) in this model,
    # so the ratio of means has an SD of about 0.15 x the ratio: 30 % is over 2 SD.
    assert abs(s.ratio - known) <= 0.3 * known
    assert s.ratio_interval[0] <= known <= s.ratio_interval[1]


def test_the_operator_types_the_mep_of_each_trial() -> None:
    answers = iter(["400", "900"] * 4)
    source = OperatorSource(lambda _q: next(answers))
    plan = PairedPlan("sici", 50.0, 80.0, trials=4)
    result = run_paired(plan, source, clock=VirtualClock(), rng=random.Random(0))
    assert sorted(t.amplitude_uv for t in result.trials) == [400.0] * 4 + [900.0] * 4


def test_yes_no_answers_are_refused() -> None:
    source = OperatorSource(lambda _q: "yes")
    with pytest.raises(ConfigError, match="amplitudes"):
        run_paired(PairedPlan("sici", 50.0, 80.0, trials=2), source, clock=VirtualClock())


# --- through the BiStim² driver ---------------------------------------------------------


@pytest.mark.usefixtures("quiet_logs")
def test_each_trial_sets_and_verifies_both_outputs_and_the_interval() -> None:
    clock = SimulatedClock()
    profile = load_profile(BISTIM)
    plan = PairedPlan("sici", 50.0, 80.0, interval_ms=2.5, trials=3)
    with open_hunt_device(profile, None, clock=clock, subject_rmt=50.0, subject_seed=4) as dev:
        stimulus = PairedStimulus(
            dev.stimulate.driver, clock=clock, max_rate_hz=0.25, max_intensity=100
        )
        source = SimulatorPairedSource(dev.simulator)
        result = run_paired(
            plan, source, clock=clock, fire=stimulus, interval=PulseInterval(4.0, 0.0)
        )
        log = list(dev.simulator.pulses)
    assert stimulus.fired == 6
    conditioned = [t for t in result.trials if t.trial.conditioned]
    assert len(log) == 9 and len(conditioned) == 3
    pairs = [(a, b) for a, b in itertools.pairwise(log) if b.channel == "B"]
    assert len(pairs) == 3
    for a, b in pairs:
        assert (a.channel, a.intensity, b.intensity) == ("A", 40, 60)
        assert b.time - a.time == pytest.approx(0.0025, abs=1e-9)
    alone = [p for p in log if p.channel == "A" and p.intensity == 60]
    assert len(alone) == 3
    assert not dev.simulator.armed


@pytest.mark.usefixtures("quiet_logs")
@pytest.mark.parametrize(
    "trial",
    [Trial(1, True, 40, 85, 3.0), Trial(2, True, 85, 90, 3.0), Trial(3, False, None, 81, 3.0)],
)
def test_the_device_gate_refuses_any_output_above_its_cap_before_a_byte(trial: Trial) -> None:
    clock = SimulatedClock()
    with open_hunt_device(load_profile(BISTIM), None, clock=clock) as dev:
        stimulus = PairedStimulus(
            dev.stimulate.driver, clock=clock, max_rate_hz=0.25, max_intensity=80
        )
        with pytest.raises(SafetyViolation, match="above the cap 80"):
            stimulus(trial)
        assert stimulus.fired == 0 and not dev.simulator.pulses


@pytest.mark.usefixtures("quiet_logs")
def test_a_single_output_stimulator_is_refused() -> None:
    clock = SimulatedClock()
    profile = load_profile("magstim-200")
    with (
        open_hunt_device(profile, None, clock=clock) as dev,
        pytest.raises(ConfigError, match="second output"),
    ):
        PairedStimulus(dev.stimulate.driver, clock=clock, max_rate_hz=0.25, max_intensity=100)


@pytest.mark.usefixtures("quiet_logs")
def test_a_device_that_ignores_output_b_refuses_to_arm() -> None:
    """The fail-closed read-back: a BiStim² whose output B keeps its old power never fires
    a conditioned trial (simulator fault sticky_b_power)."""
    clock = SimulatedClock()
    profile = load_profile(BISTIM)
    plan = PairedPlan("sici", 50.0, 80.0, trials=2)
    port = "stimsim://magstim-bistim?sticky_b_power=1"
    with open_hunt_device(profile, port, clock=clock) as dev:
        stimulus = PairedStimulus(
            dev.stimulate.driver, clock=clock, max_rate_hz=0.25, max_intensity=100
        )
        with pytest.raises(OutputStateMismatch, match="power_b"):
            run_paired(
                plan, ConstantSubject(300.0), clock=clock, fire=stimulus,
                interval=PulseInterval(4.0, 0.0),
            )  # fmt: skip
    assert not any(p.channel == "B" for p in dev.simulator.pulses)


# --- the command ------------------------------------------------------------------------


def paired_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    code = rmt_group.main(args=["paired", *args, "--json"], prog_name="rmt", standalone_mode=False)
    return int(code), json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("quiet_logs")
def test_cli_drives_the_simulated_bistim_and_journals_every_trigger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data = paired_cli(
        capsys, "S01", "--paradigm", "sici", "--device", BISTIM, "--virtual-rmt", "50",
        "--seed", "2", "--trials", "5", "--speed", "max",
    )  # fmt: skip
    assert code == ExitCode.OK
    assert (data["fired_by"], data["disarmed"]) == ("simulator", True)
    assert data["conditioning_percent_mso"] == 40 and data["test_percent_mso"] == 60
    assert isinstance(data["ratio"], float) and math.isfinite(data["ratio"])
    (path,) = journals_dir().glob("rmt-*.jsonl")
    assert verify(path).ok
    records = read(path)
    assert records[0]["payload"]["kind"] == "paired-pulse"
    pulses = [r["payload"] for r in records if r["event"] == "pulse"]
    # one record per magnetic pulse: 5 pairs and 5 test pulses alone
    assert len(pulses) == 15 and [p["index"] for p in pulses] == list(range(15))
    second = [p for p in pulses if p["output"] == "B"]
    assert len(second) == 5
    assert all(p["intensity"] == 60 and p["after_a_ms"] == 3.0 for p in second)
    assert sorted(p["intensity"] for p in pulses if p["output"] == "A") == [40] * 5 + [60] * 5
    end = next(r["payload"] for r in records if r["event"] == "session_end")
    assert end["pulses_delivered"] == 15 and end["result"]["ratio"] == data["ratio"]


def test_cli_refuses_a_suprathreshold_conditioning_pulse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    with pytest.raises(SafetyViolation, match="subthreshold"):
        rmt_group.main(
            args=["paired", "S01", "--paradigm", "sici", "--rmt", "50", "--conditioning", "99.9",
                  "--relative-to", "amt", "--amt", "55"],
            standalone_mode=False,
        )  # fmt: skip


def test_cli_takes_mep_from_a_plugin_source_that_knows_nothing_of_pairs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A live EMG plug-in only answers `response(test intensity)`: the muscle did the
    interaction. The ratio is whatever its MEPs say (here 1: a constant source)."""
    from stimctl.rmt.registry import register_mep_source, unregister_mep_source

    asked: list[ConstantSubject] = []

    def factory(true_rmt: float, seed: int | None) -> ConstantSubject:
        asked.append(ConstantSubject(700.0))
        return asked[-1]

    register_mep_source("test-emg", factory)
    try:
        code, data = paired_cli(
            capsys, "S01", "--paradigm", "icf", "--rmt", "50", "--mep-source", "test-emg",
            "--trials", "2", "--interval", "4", "--jitter", "0", "--seed", "1", "--no-store",
        )  # fmt: skip
    finally:
        unregister_mep_source("test-emg")
    assert code == ExitCode.OK and data["ratio"] == 1.0
    assert asked[0].asked == [60] * 4
