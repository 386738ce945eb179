"""Command dispatch on an engine that is not running (a fake driver, simulated time):
each command's effect in each state comes from the transition table."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.journal import Journal, events, read
from stimctl.session.dispatch import actor_of, dispatch
from stimctl.session.ending import EndSession
from stimctl.session.engine import SessionEngine
from stimctl.session.inbox import (
    Abort,
    Acknowledge,
    ChangeIntensity,
    DeviceFault,
    Pause,
    RecordsFailed,
    Resume,
    Stop,
)
from stimctl.session.states import State, Trigger
from stimctl.session.watchdog import Priority
from tests.session.fakes import FakeStimulator, guard, plan

ACTOR = "operator:dr-a"
TO = {
    State.READY: [Trigger.PREPARE],
    State.ARMED: [Trigger.PREPARE, Trigger.ARM],
    State.TRAIN: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN],
    State.INTERTRAIN: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN, Trigger.END_TRAIN],
}


def engine_in(tmp_path: Path, state: State) -> SessionEngine:
    from stimctl.clock import VirtualClock

    clock = VirtualClock()
    the_plan = plan()
    driver = FakeStimulator(clock)
    driver.open()
    driver.set_intensity(the_plan.trains[0].intensity_percent_mso)
    journal = Journal.create(tmp_path, "dispatch", clock=clock, signer=None)
    engine = SessionEngine(driver, the_plan, journal, clock=clock, guard=guard(the_plan))
    engine.recorder.opening({"unit": True})
    for trigger in TO[state]:
        engine.failsafe.trigger(trigger)
    assert engine.controller.current is state
    return engine


def journaled(engine: SessionEngine, event: str) -> list[dict[str, object]]:
    return [dict(r["payload"]) for r in read(engine.journal.path) if r["event"] == event]


@pytest.mark.parametrize("state", [State.ARMED, State.INTERTRAIN])
def test_a_pause_acts_where_the_table_allows_it(tmp_path: Path, state: State) -> None:
    engine = engine_in(tmp_path, state)
    dispatch(engine, Pause(ACTOR))
    assert engine.controller.current is State.PAUSED
    assert not engine.live.pause_requested and engine.pauses.operator_paused
    assert journaled(engine, events.OPERATOR) == [{"command": "pause"}]


def test_a_pause_mid_train_waits_for_the_train_end(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.TRAIN)
    dispatch(engine, Pause(ACTOR))
    assert engine.controller.current is State.TRAIN and engine.live.pause_requested


@pytest.mark.parametrize("state", [State.READY, State.ARMED, State.INTERTRAIN])
def test_a_stop_between_trains_completes_at_once(tmp_path: Path, state: State) -> None:
    engine = engine_in(tmp_path, state)
    with pytest.raises(EndSession):
        dispatch(engine, Stop(ACTOR))
    assert engine.controller.current is State.COMPLETED
    assert engine.failsafe.reason == "stopped by operator"


def test_a_stop_mid_train_is_remembered_for_the_train_end(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.TRAIN)
    dispatch(engine, Stop(ACTOR))
    assert engine.controller.current is State.TRAIN and engine.live.stop_requested


def test_a_resume_rearms_unless_the_coil_holds(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.INTERTRAIN)
    dispatch(engine, Pause(ACTOR))
    engine.pauses.held = True
    dispatch(engine, Resume(ACTOR))
    assert engine.controller.current is State.PAUSED  # still held by the coil
    engine.pauses.held = False
    dispatch(engine, Resume(ACTOR))
    assert engine.controller.current is State.ARMED


def test_abort_and_a_device_fault_end_the_session(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.INTERTRAIN)
    with pytest.raises(EndSession):
        dispatch(engine, Abort(ACTOR, "subject asked"))
    assert engine.controller.current is State.ABORTED
    faulted = engine_in(tmp_path / "2", State.TRAIN)
    with pytest.raises(EndSession):
        dispatch(faulted, DeviceFault("port gone", lost=True))
    assert faulted.controller.current is State.FAULT and faulted.controller.latched
    assert [a.code for a in faulted.alarms] == ["DEV-3"]
    assert journaled(faulted, events.OPERATOR) == []  # a device fault is not a person's act
    dispatch(faulted, Acknowledge(ACTOR))
    assert not faulted.controller.latched and faulted.alarms == []


def test_a_records_failure_is_a_medium_alarm_that_changes_nothing(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.INTERTRAIN)
    dispatch(engine, RecordsFailed("the row could not be updated"))
    assert engine.controller.current is State.INTERTRAIN
    (alarm,) = engine.alarms
    assert (alarm.code, alarm.priority) == ("RECORDS", Priority.MEDIUM)


def test_an_intensity_change_is_journaled_under_its_operator(tmp_path: Path) -> None:
    engine = engine_in(tmp_path, State.INTERTRAIN)
    dispatch(engine, ChangeIntensity(ACTOR, 90.0, "", False))
    (change,) = journaled(engine, events.INTENSITY)
    assert change["accepted"] is False and change["refusal"] == "an intensity change needs a reason"
    assert any("intensity change refused" in e for e in engine.live.events)


def test_actors_are_the_systems_own_or_a_person() -> None:
    assert actor_of("watchdog") == "watchdog"
    assert actor_of("operator:dr-a") == "operator:dr-a"
    assert actor_of("dr-a") == "operator:dr-a"
