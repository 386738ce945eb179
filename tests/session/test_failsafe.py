"""The failure path on a fake driver: disarm first, then the alarm and the state; an
unconfirmed disarm latches; the ending always writes its record and a summary."""

from __future__ import annotations

from pathlib import Path

from stimctl.hal import ArmState
from stimctl.journal import events, read
from stimctl.session.alarms import DISARM_ALARM
from stimctl.session.states import State
from stimctl.session.watchdog import Action, Alarm, Priority
from tests.session.test_dispatch import engine_in


def test_a_fault_disarms_before_the_state_changes(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.TRAIN)
    driver = engine.driver
    assert driver.status().arm_state is ArmState.READY
    seen: list[ArmState] = []
    engine.controller._on_state = lambda s, d, t: seen.append(driver.status().arm_state)
    engine.failsafe.fault(Alarm("DEV-1", Priority.HIGH, "coil hot", Action.FAULT))
    assert engine.controller.current is State.FAULT and engine.failsafe.reason == "coil hot"
    assert seen == [ArmState.STANDBY]  # already disarmed when `fault` was entered
    assert engine.monitor.fault_at is not None


def test_a_device_that_stays_armed_latches_the_disarm_alarm(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.TRAIN)
    engine.driver._do_disarm = lambda: None  # type: ignore[method-assign]  # ignores it
    engine.failsafe.fail("link trouble")
    assert engine.board.disarm_error is not None
    assert DISARM_ALARM in [a.code for a in engine.alarms]
    engine.board.acknowledge()
    assert DISARM_ALARM in [a.code for a in engine.alarms]  # not cleared by a key press
    engine.failsafe.finish()
    summary = engine.failsafe.summary
    assert summary is not None and not summary.disarm_confirmed
    assert "DISARM UNCONFIRMED" in summary.outcome


def test_the_ending_closes_the_journal_with_the_status_and_the_count(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.INTERTRAIN)
    engine.failsafe.finish()  # not terminal: the ending faults it first (fail closed)
    summary = engine.failsafe.summary
    assert summary is not None and summary.status == "fault"
    assert summary.reason == "the engine ended unexpectedly"
    (end,) = [r["payload"] for r in read(engine.journal.path) if r["event"] == events.SESSION_END]
    assert end["status"] == "fault" and end["disarmed"] is True and end["pulses_delivered"] == 0
