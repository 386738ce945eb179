"""The runner: inter-pulse interval on the virtual clock, the stimulate hook, the last gate."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.rmt import (
    HuntLimits,
    MillsNithi,
    MlPest,
    PulseInterval,
    PulseRecord,
    RelativeFrequency,
    ThresholdMethod,
    hunt,
)
from tests.rmt.helpers import ScriptedSubject, StepSubject


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.mark.parametrize(
    "method", [RelativeFrequency(70), MillsNithi(70), MlPest()], ids=lambda m: m.name
)
def test_pulses_are_at_least_the_minimum_interval_apart_with_jitter(
    method: ThresholdMethod,
) -> None:
    clock = VirtualClock(start=1000.0)
    result = hunt(
        method,
        StepSubject(58),
        clock=clock,
        interval=PulseInterval(5.0, 1.0),
        rng=random.Random(7),
    )
    times = [p.time_s for p in result.trace]
    assert all(t is not None for t in times)
    intervals = gaps([t for t in times if t is not None])
    assert len(intervals) == result.pulses - 1 >= 10
    assert min(intervals) >= 5.0
    assert max(intervals) <= 6.0
    assert len({round(g, 6) for g in intervals}) > len(intervals) // 2  # jittered, not fixed
    assert times[0] == 1000.0  # the first pulse does not wait


def test_a_slow_driver_lengthens_the_gap_never_shortens_it() -> None:
    clock = VirtualClock()

    def slow_fire(_intensity: int) -> None:
        clock.advance(0.7)  # the driver takes 0.7 s to set the intensity and fire

    result = hunt(
        MlPest(), StepSubject(50), clock=clock, stimulate=slow_fire, interval=PulseInterval(4, 0)
    )
    times = [p.time_s for p in result.trace if p.time_s is not None]
    assert gaps(times) == pytest.approx([4.7] * (result.pulses - 1))


def test_the_clock_is_what_paces_the_pulses() -> None:
    clock = VirtualClock()
    result = hunt(MlPest(), StepSubject(50), clock=clock, interval=PulseInterval(4.0, 0.0))
    assert clock.now() == pytest.approx(4.0 * (result.pulses - 1))


@pytest.mark.parametrize("minimum", [0.0, 1.0, 3.99, float("nan")])
def test_an_interval_below_four_seconds_is_refused(minimum: float) -> None:
    with pytest.raises(ConfigError):
        PulseInterval(minimum, 1.0)


def test_negative_jitter_is_refused() -> None:
    with pytest.raises(ConfigError):
        PulseInterval(5.0, -0.5)


def test_stimulate_fires_once_per_pulse_before_the_response_is_read() -> None:
    events: list[tuple[str, int]] = []

    class Subject(StepSubject):
        def response(self, intensity_percent_mso: int):  # type: ignore[no-untyped-def]
            events.append(("read", intensity_percent_mso))
            return super().response(intensity_percent_mso)

    result = hunt(
        RelativeFrequency(62),
        Subject(60),
        clock=VirtualClock(),
        stimulate=lambda x: events.append(("fire", x)),
    )
    expected = [e for p in result.trace for e in (("fire", p.intensity), ("read", p.intensity))]
    assert events == expected


def test_on_pulse_sees_every_record_with_its_running_estimate() -> None:
    seen: list[PulseRecord] = []
    result = hunt(MlPest(), StepSubject(55), clock=VirtualClock(), on_pulse=seen.append)
    assert tuple(seen) == result.trace
    assert all(r.estimate is not None for r in seen)


class RogueMethod(RelativeFrequency):
    """A buggy method that proposes one step above its own cap."""

    def _propose(self) -> int:
        return self.limits.max_intensity + 1


def test_a_method_proposing_above_its_cap_never_fires() -> None:
    fired: list[int] = []
    method = RogueMethod(50, limits=HuntLimits(max_intensity=60))
    with pytest.raises(SafetyViolation):
        hunt(method, StepSubject(40), clock=VirtualClock(), stimulate=fired.append)
    assert fired == []


def build(kind: str, start: int, limits: HuntLimits) -> ThresholdMethod:
    if kind == "rr":
        return RelativeFrequency(start, limits=limits)
    if kind == "rr-10-20":
        return RelativeFrequency(start, positives=10, trials=20, limits=limits)
    if kind == "mills-nithi":
        return MillsNithi(start, limits=limits)
    return MlPest(limits=limits)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["rr", "rr-10-20", "mills-nithi", "ml-pest"]),
    cap=st.integers(min_value=1, max_value=100),
    floor_fraction=st.floats(min_value=0, max_value=1),
    start_fraction=st.floats(min_value=0, max_value=1),
    max_pulses=st.integers(min_value=1, max_value=120),
    answers=st.lists(st.booleans(), min_size=1, max_size=30),
)
def test_no_method_ever_leaves_its_intensity_range_or_pulse_budget(
    kind: str,
    cap: int,
    floor_fraction: float,
    start_fraction: float,
    max_pulses: int,
    answers: list[bool],
) -> None:
    floor = 1 + round(floor_fraction * (cap - 1))
    limits = HuntLimits(max_intensity=cap, min_intensity=floor, max_pulses=max_pulses)
    start = floor + round(start_fraction * (cap - floor))
    method = build(kind, start, limits)
    source = ScriptedSubject(answers)
    fired: list[int] = []
    result = hunt(method, source, clock=VirtualClock(), stimulate=fired.append)
    assert fired == source.asked == [p.intensity for p in result.trace]
    assert all(floor <= x <= cap for x in fired)
    assert 1 <= result.pulses <= max_pulses
    if result.rmt is not None:
        assert floor <= result.rmt <= cap
