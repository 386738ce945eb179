"""Live state: the console's snapshot moves on every pulse and counts down the trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.session.summary import TrainRecord
from tests.session.fakes import Parts, plan


def record(index: int = 0) -> TrainRecord:
    return TrainRecord(index=index, planned_onset_s=0.0, actual_onset_s=0.0, pulses_planned=20)


def snap(parts: Parts):  # type: ignore[no-untyped-def]
    return parts.live.snapshot(state="train", latched=False, alarms=[])


def test_host_timed_pulses_count_one_by_one_and_the_train_counts_down(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan())
    train, live, clock = parts.plan.trains[0], parts.live, parts.clock
    rec = record()
    live.train_started(rec)
    live.running_train(train, clock.now(), device_timed=False)
    for expected in range(1, 4):
        live.count_pulse(rec)
        clock.advance(0.1)
        now = snap(parts)
        assert now.pulses_delivered == expected and not now.pulses_estimated
    assert now.current_train == 0
    assert now.train_remaining_s == pytest.approx(train.duration_s - 0.3)
    assert now.next_train_in_s is None


def test_a_device_timed_train_counts_from_the_device_reports(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan(device_timed=True))
    train, live = parts.plan.trains[0], parts.live
    reported = [0]
    live.train_started(record())
    live.running_train(train, parts.clock.now(), device_timed=True, reported=lambda: reported[0])
    assert snap(parts).pulses_delivered == 0
    reported[0] = 7
    assert snap(parts).pulses_delivered == 7
    reported[0] = 99  # never more than the train
    assert snap(parts).pulses_delivered == train.pulses


def test_a_device_that_reports_no_pulses_is_counted_by_the_clock(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan(device_timed=True, frequency_hz=10.0, pulses=20))
    train, live, clock = parts.plan.trains[0], parts.live, parts.clock
    rec = record()
    live.train_started(rec)
    live.running_train(train, clock.now(), device_timed=True)
    clock.advance(0.55)  # pulses at 0.0, 0.1, ... 0.5
    now = snap(parts)
    assert now.pulses_delivered == 6 and now.pulses_estimated
    live.train_counted(rec, 20, None)  # the train's final count replaces the estimate
    clock.advance(5.0)
    after = snap(parts)
    assert after.pulses_delivered == 20 and not after.pulses_estimated
    assert after.current_train is None and after.train_remaining_s is None


def test_between_trains_the_countdown_is_to_the_next_onset(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan())
    parts.live.set_next_onset(parts.clock.now() + 8.0)
    parts.clock.advance(2.5)
    now = snap(parts)
    assert now.next_train_in_s == pytest.approx(5.5) and now.train_remaining_s is None


def test_pulse_bounds_add_what_a_cut_train_may_have_delivered(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan(device_timed=True))
    rec = record()
    parts.live.train_started(rec)
    parts.live.train_counted(rec, 5, 20)
    assert parts.live.pulse_bounds() == (5, 20)
