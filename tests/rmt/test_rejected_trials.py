"""A trial the source rejects (background EMG, issue 18): the method never sees it, the
same intensity is tried again after the usual interval, and five rejections in a row
stop the hunt."""

from __future__ import annotations

import itertools

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import ExitCode, StateError
from stimctl.mep import MepReading, TrialRejected
from stimctl.rmt import HuntLimits, MlPest, hunt
from stimctl.rmt.runner import MAX_REJECTED_IN_A_ROW


class RestlessSubject:
    """Responds above 55 % MSO; the trials numbered in `restless` (1-based) are rejected."""

    def __init__(self, restless: set[int]) -> None:
        self.restless = restless
        self.trials: list[int] = []

    def response(self, intensity_percent_mso: int) -> MepReading:
        self.trials.append(intensity_percent_mso)
        if len(self.trials) in self.restless:
            raise TrialRejected("background EMG 80 µV RMS >= 50 µV in -50..-5 ms")
        return MepReading(amplitude_uv=500.0 if intensity_percent_mso > 55 else 10.0)


def test_a_rejected_trial_is_repeated_at_the_same_intensity_and_not_counted() -> None:
    subject = RestlessSubject({2, 3})
    rejected: list[tuple[int, str]] = []
    clock = VirtualClock()
    times: list[float] = []

    def stimulate(intensity: int) -> None:
        times.append(clock.now())

    result = hunt(
        MlPest(limits=HuntLimits(100, 20, 8)),
        subject,
        clock=clock,
        stimulate=stimulate,
        on_rejected=lambda intensity, reason: rejected.append((intensity, reason)),
    )
    assert result.pulses == 8  # the method saw 8 trials...
    assert len(subject.trials) == 10  # ...of 10 pulses delivered
    assert subject.trials[1] == subject.trials[2] == subject.trials[3]  # repeated
    assert [r[0] for r in rejected] == subject.trials[1:3]
    assert all("background EMG" in r[1] for r in rejected)
    assert min(b - a for a, b in itertools.pairwise(times)) >= 5.0  # still paced


def test_too_many_rejections_in_a_row_stop_the_hunt() -> None:
    subject = RestlessSubject(set(range(2, 2 + MAX_REJECTED_IN_A_ROW)))
    with pytest.raises(StateError, match="in a row rejected") as raised:
        hunt(MlPest(limits=HuntLimits(100, 20, 20)), subject, clock=VirtualClock())
    assert raised.value.exit_code == ExitCode.STATE
    assert len(subject.trials) == 1 + MAX_REJECTED_IN_A_ROW  # no pulse after the stop


def test_rejections_with_good_trials_between_do_not_add_up() -> None:
    restless = {2, 3, 4, 5, 7, 8, 9, 10}  # 4, a good one, 4 again: never 5 in a row
    result = hunt(
        MlPest(limits=HuntLimits(100, 20, 6)), RestlessSubject(restless), clock=VirtualClock()
    )
    assert result.pulses == 6
