"""Every (state, trigger) pair of the session machine, allowed or refused, with the
device actions each transition performs, in order."""

from __future__ import annotations

import itertools

import pytest

from stimctl.errors import StateError
from stimctl.session.controller import SessionController
from stimctl.session.states import LATCHED, TERMINAL, TRANSITIONS, State, Trigger, allowed

# The shortest trigger path from idle to each state.
PATHS: dict[State, list[Trigger]] = {
    State.IDLE: [],
    State.READY: [Trigger.PREPARE],
    State.ARMED: [Trigger.PREPARE, Trigger.ARM],
    State.TRAIN: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN],
    State.INTERTRAIN: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN, Trigger.END_TRAIN],
    State.PAUSED: [Trigger.PREPARE, Trigger.ARM, Trigger.PAUSE],
    State.STOPPING: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN, Trigger.STOP],
    State.COMPLETED: [Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN, Trigger.FINISH],
    State.ABORTED: [Trigger.PREPARE, Trigger.ABORT],
    State.ESTOPPED: [Trigger.ESTOP],
    State.FAULT: [Trigger.FAULT],
}

# Device calls each allowed transition makes (trigger, destination) -> calls.
EXPECTED_CALLS = {
    (Trigger.ARM, State.ARMED): ["arm"],
    (Trigger.RESUME, State.ARMED): ["arm"],
    (Trigger.PAUSE, State.PAUSED): ["disarm"],
    (Trigger.FINISH, State.COMPLETED): ["disarm"],
    (Trigger.STOP, State.COMPLETED): ["disarm"],
    (Trigger.ABORT, State.ABORTED): ["disarm"],
    (Trigger.FAULT, State.FAULT): ["safe_stop"],
}


class RecordingDevice:
    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise OSError(f"{name} failed")

    def arm(self) -> None:
        self._call("arm")

    def disarm(self) -> None:
        self._call("disarm")

    def safe_stop(self) -> None:
        self.calls.append("safe_stop")  # never raises


def controller_in(
    state: State,
) -> tuple[SessionController, RecordingDevice, list[tuple[str, str, str]]]:
    device = RecordingDevice()
    changes: list[tuple[str, str, str]] = []
    ctl = SessionController(device, on_state=lambda a, b, t: changes.append((a, b, t)))
    for trigger in PATHS[state]:
        ctl.fire_trigger(trigger)
    assert ctl.current is state
    device.calls.clear()
    changes.clear()
    return ctl, device, changes


def test_paths_reach_every_state() -> None:
    assert set(PATHS) == set(State)


@pytest.mark.parametrize(
    ("state", "trigger"),
    list(itertools.product(State, [t for t in Trigger if t is not Trigger.ACKNOWLEDGE])),
    ids=lambda v: str(v),
)
def test_every_state_trigger_pair(state: State, trigger: Trigger) -> None:
    ctl, device, changes = controller_in(state)
    destination = allowed(state, trigger)
    if destination is None:
        with pytest.raises(StateError, match="not allowed"):
            ctl.fire_trigger(trigger)
        assert ctl.current is state
        assert device.calls == []
        assert changes == []
        return
    assert ctl.fire_trigger(trigger) is destination
    assert ctl.current is destination
    assert device.calls == EXPECTED_CALLS.get((trigger, destination), [])
    assert changes == [(str(state), str(destination), str(trigger))]
    assert ctl.latched is (destination in LATCHED)


def test_terminal_states_refuse_everything_but_acknowledge() -> None:
    for state in TERMINAL:
        for trigger in Trigger:
            if trigger is not Trigger.ACKNOWLEDGE:
                assert allowed(state, trigger) is None, (state, trigger)


@pytest.mark.parametrize("state", sorted(LATCHED))
def test_acknowledge_clears_the_latch_but_keeps_the_state(state: State) -> None:
    ctl, _, _ = controller_in(state)
    assert ctl.latched
    assert ctl.fire_trigger(Trigger.ACKNOWLEDGE) is state
    assert not ctl.latched


def test_acknowledge_refused_when_nothing_is_latched() -> None:
    ctl, _, _ = controller_in(State.ARMED)
    with pytest.raises(StateError, match="nothing to acknowledge"):
        ctl.fire_trigger(Trigger.ACKNOWLEDGE)


def test_failed_arm_means_no_transition_and_a_fault() -> None:
    device = RecordingDevice(fail="arm")
    changes: list[tuple[str, str, str]] = []
    ctl = SessionController(device, on_state=lambda a, b, t: changes.append((a, b, t)))
    ctl.fire_trigger(Trigger.PREPARE)
    with pytest.raises(StateError, match="'arm' failed, now 'fault'"):
        ctl.fire_trigger(Trigger.ARM)
    assert ctl.current is State.FAULT
    assert ("ready", "armed", "arm") not in changes
    assert device.calls == ["arm", "safe_stop"]  # the fault disarms, fail closed
    assert ctl.latched


def test_the_table_has_no_duplicate_source_for_a_trigger() -> None:
    seen: set[tuple[str, str]] = set()
    for row in TRANSITIONS:
        for source in row["source"]:
            key = (str(row["trigger"]), str(source))
            assert key not in seen, key
            seen.add(key)


def test_docs_diagram_matches_the_table() -> None:
    from pathlib import Path

    from stimctl.session.diagram import document

    doc = Path(__file__).resolve().parents[2] / "docs" / "session-states.md"
    assert doc.read_text() == document(), "regenerate: python -m stimctl.session.diagram"


def test_device_io_runs_before_the_state_changes() -> None:
    """`before` callbacks do the I/O, then the state changes, then it is reported."""
    log: list[str] = []

    class OrderedDevice(RecordingDevice):
        def _call(self, name: str) -> None:
            log.append(f"device:{name}")

        def safe_stop(self) -> None:
            log.append("device:safe_stop")

    ctl = SessionController(OrderedDevice(), on_state=lambda a, b, t: log.append(f"state:{a}->{b}"))
    for trigger in (Trigger.PREPARE, Trigger.ARM, Trigger.START_TRAIN, Trigger.FINISH):
        ctl.fire_trigger(trigger)
    assert log == [
        "state:idle->ready",
        "device:arm",
        "state:ready->armed",
        "state:armed->train",
        "device:disarm",
        "state:train->completed",
    ]
