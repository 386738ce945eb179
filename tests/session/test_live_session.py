"""The console's snapshot during a real session (simulator, simulated time): the pulse
count moves within a device-timed train, not only at its end, and the snapshot counts
down the train (issue 14: live state for the console)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stimctl.session.summary import Snapshot
from tests.session.harness import TRAINS, Run, start, write_protocol

RAPID = "magstim-rapid2-super-plus-240v"


def one_second_into_the_first_train(run: Run, *, least: int) -> Snapshot:
    """Step simulated time until the first train runs, then 1 s on; hold time there
    (a thread the clock woke holds it) until the count reaches `least` or 1 s passes."""
    engine, clock = run.engine, run.clock
    while engine.running and engine.snapshot().state != "train":
        clock.sleep(0.01)
    clock.sleep_until(clock.now() + 1.0)
    deadline = time.monotonic() + 1.0  # the device's reports come in on real time
    while engine.snapshot().pulses_delivered < least and time.monotonic() < deadline:
        time.sleep(0.005)
    return engine.snapshot()


@pytest.mark.parametrize(
    ("device", "estimated"), [("magpro-x100", False), (RAPID, True)], ids=["magpro", "rapid2"]
)
def test_the_pulse_count_moves_during_a_device_timed_train(
    tmp_path: Path, device: str, estimated: bool
) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=2)), tmp_path, device=device)
    assert run.engine.plan.timing == "device"
    mid = one_second_into_the_first_train(run, least=10)
    summary = run.finish()
    # 10 Hz from the train's first pulse: 11 pulses by 1.0 s (the 11th may be on its way)
    assert 10 <= mid.pulses_delivered <= 11, mid
    assert mid.trains_delivered == 0 and mid.pulses_estimated is estimated
    assert mid.current_train == 0
    assert mid.train_remaining_s is not None and 0.8 <= mid.train_remaining_s <= 1.01
    assert mid.next_train_in_s is None
    assert summary.status == "completed" and summary.pulses_delivered == 40


def test_between_trains_the_snapshot_counts_down_to_the_next(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=2)), tmp_path)
    engine, clock = run.engine, run.clock
    while engine.running and engine.snapshot().trains_delivered < 1:
        clock.sleep(0.01)
    clock.sleep(3.0)
    between = engine.snapshot()
    run.finish()
    assert between.current_train is None and between.train_remaining_s is None
    assert between.next_train_in_s is not None and 6.0 <= between.next_train_in_s <= 7.1
    assert between.pulses_delivered == 20
