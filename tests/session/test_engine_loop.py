"""The loop on a fake driver and simulated time: a whole session without a port."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.hal import ArmState
from stimctl.journal import Journal
from stimctl.session.engine import SessionEngine
from tests.session.fakes import FakeStimulator, guard, plan


def engine(tmp_path: Path, *, device_timed: bool) -> tuple[SessionEngine, FakeStimulator]:
    clock = VirtualClock()
    the_plan = plan(device_timed=device_timed, pulses=10, frequency_hz=10.0, trains=3)
    driver = FakeStimulator(clock)
    driver.open()
    journal = Journal.create(tmp_path, "loop", clock=clock, signer=None)
    return SessionEngine(driver, the_plan, journal, clock=clock, guard=guard(the_plan)), driver


def test_host_timed_pulses_leave_on_the_plans_deadlines(tmp_path: Path) -> None:
    eng, driver = engine(tmp_path, device_timed=False)
    eng.start()
    summary = eng.wait(timeout=30)
    assert summary.status == "completed" and summary.pulses_delivered == 30
    t0 = eng.schedule.t0
    planned = [t0 + t.onset_s + o for t in eng.plan.trains for o in t.pulse_offsets_s]
    assert driver.fired == pytest.approx(planned, abs=1e-9)  # simulated time: exact
    assert driver.arm_state is ArmState.STANDBY and summary.disarm_confirmed


def test_device_timed_trains_start_on_their_onsets(tmp_path: Path) -> None:
    eng, driver = engine(tmp_path, device_timed=True)
    eng.start()
    summary = eng.wait(timeout=30)
    assert summary.status == "completed" and summary.pulses_delivered == 30
    t0 = eng.schedule.t0
    assert driver.trains_started == pytest.approx([t0 + t.onset_s for t in eng.plan.trains])
    assert summary.count_exact


def test_an_estop_from_another_thread_ends_the_session_estopped(tmp_path: Path) -> None:
    eng, driver = engine(tmp_path, device_timed=False)
    eng.pause("operator:dr-a")  # taken before the first train: the loop waits
    eng.start()
    pressed = threading.Event()

    def press() -> None:
        pressed.set()
        eng.estop("operator:dr-a")

    threading.Thread(target=press).start()
    pressed.wait(5)
    summary = eng.wait(timeout=30)
    assert summary.status == "estopped" and driver.fired == []
    assert driver.arm_state is ArmState.STANDBY and eng.controller.latched
