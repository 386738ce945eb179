"""The session state machine on `transitions`, built from the TRANSITIONS table.

Configured as the architecture asks: `queued=True`, no auto transitions, invalid triggers
raise (as `StateError`), device I/O in `before` callbacks so a failed command means no
transition, and `on_exception` leading to `fault`. The controller does not own the
device: it calls the `DeviceActions` it is given, and reports every state change to
`on_state` (the engine journals it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from stimctl.errors import StateError, StimctlError
from stimctl.session.states import LATCHED, TRANSITIONS, State, Trigger, allowed

log = logging.getLogger(__name__)


class DeviceActions(Protocol):
    """What the controller asks of the device around transitions."""

    def arm(self) -> None: ...

    def disarm(self) -> None: ...

    def safe_stop(self) -> None: ...


# Device I/O that must succeed before a transition happens (trigger, destination).
_BEFORE: dict[tuple[str, str], str] = {
    (Trigger.ARM, State.ARMED): "_before_arm",
    (Trigger.RESUME, State.ARMED): "_before_arm",
    (Trigger.PAUSE, State.PAUSED): "_before_disarm",
    (Trigger.FINISH, State.COMPLETED): "_before_disarm",
    (Trigger.STOP, State.COMPLETED): "_before_disarm",
    (Trigger.ABORT, State.ABORTED): "_before_disarm",
    (Trigger.FAULT, State.FAULT): "_before_safe_stop",
}


def machine_transitions() -> list[dict[str, Any]]:
    rows = []
    for row in TRANSITIONS:
        spec: dict[str, Any] = {
            "trigger": str(row["trigger"]),
            "source": [str(s) for s in row["source"]],
            "dest": str(row["dest"]),
        }
        before = _BEFORE.get((row["trigger"], row["dest"]))
        if before:
            spec["before"] = before
        rows.append(spec)
    return rows


class SessionController:
    """The model of the `transitions` machine; `state` is a `State` value string."""

    state: str
    trigger: Callable[..., bool]  # added by transitions.Machine

    def __init__(
        self,
        device: DeviceActions,
        on_state: Callable[[State, State, str], None] | None = None,
    ) -> None:
        self._device = device
        self._on_state = on_state
        self.latched = False
        self.last_error: BaseException | None = None
        self.machine = Machine(
            model=self,
            states=[str(s) for s in State],
            transitions=machine_transitions(),
            initial=str(State.IDLE),
            auto_transitions=False,
            queued=True,
            send_event=True,
            ignore_invalid_triggers=False,
            after_state_change="_after_state_change",
            on_exception="_on_exception",
        )

    @property
    def current(self) -> State:
        return State(self.state)

    def fire_trigger(self, trigger: Trigger) -> State:
        """Run one trigger; a trigger the current state does not allow raises StateError."""
        if trigger is Trigger.ACKNOWLEDGE:
            return self.acknowledge()
        if allowed(self.current, trigger) is None:
            raise StateError(f"'{trigger}' is not allowed in state '{self.state}'")
        try:
            self.trigger(str(trigger))
        except MachineError as exc:
            raise StateError(f"'{trigger}' is not allowed in state '{self.state}'") from exc
        error, self.last_error = self.last_error, None
        if error is not None:
            raise StateError(f"'{trigger}' failed, now '{self.state}': {error}") from error
        return self.current

    def acknowledge(self) -> State:
        """Clear the latch of a latched state (e-stop, fault); the state itself stays."""
        if self.current not in LATCHED:
            raise StateError(f"nothing to acknowledge in state '{self.state}'")
        self.latched = False
        return self.current

    # -- callbacks -----------------------------------------------------------------

    def _before_arm(self, event: EventData) -> None:
        self._device.arm()

    def _before_disarm(self, event: EventData) -> None:
        self._device.disarm()

    def _before_safe_stop(self, event: EventData) -> None:
        self._device.safe_stop()  # never raises; fail closed

    def _after_state_change(self, event: EventData) -> None:
        source = State(event.transition.source) if event.transition else State.IDLE
        destination = self.current
        if destination in LATCHED:
            self.latched = True
        if self._on_state is not None:
            self._on_state(source, destination, event.event.name)

    def _on_exception(self, event: EventData) -> None:
        error = event.error
        if isinstance(error, MachineError):
            raise StateError(str(error)) from error  # refused, not a device failure
        self.last_error = error
        log.error("transition %s from %s failed: %s", event.event.name, self.state, error)
        if not isinstance(error, StimctlError | OSError):
            log.exception("unexpected error in a transition", exc_info=error)
        if self.current in LATCHED or event.event.name == str(Trigger.FAULT):
            return
        self.trigger(str(Trigger.FAULT))  # queued: runs after this callback returns
