"""The schedule's arithmetic on plain numbers (no clock, no thread)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimctl.session.schedule import Schedule, countdown
from tests.session.fakes import plan

PLAN = plan(frequency_hz=10.0, pulses=20, iti_s=10.0, trains=3)


def test_onsets_are_absolute_from_the_start() -> None:
    schedule = Schedule()
    schedule.start(50.0)
    assert [schedule.planned_onset(t) for t in PLAN.trains] == pytest.approx(
        [50.0 + t.onset_s for t in PLAN.trains]
    )
    assert PLAN.trains[1].onset_s == pytest.approx(PLAN.trains[0].duration_s + 10.0, abs=0.11)


def test_a_pause_shifts_every_later_onset() -> None:
    schedule = Schedule(t0=0.0)
    schedule.shift(7.5)
    assert schedule.planned_onset(PLAN.trains[2]) == pytest.approx(PLAN.trains[2].onset_s + 7.5)


def test_an_overrunning_train_never_shortens_the_pause_after_it() -> None:
    schedule = Schedule(t0=0.0)
    train = PLAN.trains[1]
    late_end = train.onset_s - 10.0 + 3.0  # the previous train ended 3 s late
    onset = schedule.onset(train, last_train_end=late_end, inter_train_s=10.0)
    assert onset == pytest.approx(late_end + 10.0)
    assert schedule.offset == pytest.approx(3.0)  # and the rest of the schedule moves too
    assert schedule.planned_onset(PLAN.trains[2]) == pytest.approx(PLAN.trains[2].onset_s + 3.0)


def test_an_early_train_end_keeps_the_planned_onset() -> None:
    schedule = Schedule(t0=0.0)
    train = PLAN.trains[1]
    onset = schedule.onset(train, last_train_end=train.onset_s - 12.0, inter_train_s=10.0)
    assert onset == pytest.approx(train.onset_s) and schedule.offset == 0.0


def test_countdown_until_the_next_train_and_left_in_this_one() -> None:
    assert countdown(10.0, next_onset=14.5, train_end=None) == (4.5, None)
    assert countdown(10.0, next_onset=None, train_end=11.25) == (None, 1.25)
    assert countdown(10.0, next_onset=None, train_end=None) == (None, None)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_countdown_is_never_negative(now: float, at: float) -> None:
    next_in, left = countdown(now, next_onset=at, train_end=at)
    assert next_in is not None and left is not None
    assert next_in >= 0.0 and left >= 0.0
