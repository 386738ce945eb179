"""Command dispatch: what each typed command from the inbox does to a running session.

The loop takes commands between pulses and while it waits, and hands each one here.
Every command but a device fault and a records notice is journaled first, under the
person who gave it. Whether a command acts now is the transition table's call
(`states.allowed`): a pause acts where the table allows `pause`, a stop ends the session
at once where `stop` completes it (otherwise at the end of the train), a resume re-arms
where `resume` is allowed and no coil hold is on. A command that ends the session raises
`EndSession` after the failsafe did its part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from stimctl.session.alarms import AlarmBoard
from stimctl.session.controller import SessionController
from stimctl.session.dose_control import DoseControl
from stimctl.session.ending import EndSession
from stimctl.session.failsafe import Failsafe
from stimctl.session.inbox import (
    Abort,
    Acknowledge,
    ChangeIntensity,
    Command,
    DeviceFault,
    EndForAdverseEvent,
    EStopDone,
    Pause,
    RecordsFailed,
    Resume,
    Stop,
)
from stimctl.session.live import LiveState
from stimctl.session.recorder import Recorder
from stimctl.session.states import LATCHED, TERMINAL, State, Trigger, allowed
from stimctl.session.watchdog import Action, Alarm, Priority

log = logging.getLogger(__name__)

SYSTEM_ACTORS = ("engine", "watchdog", "device", "recovery")


@dataclass
class Pauses:
    """Why the session waits between trains: the operator paused it, or the coil is
    too warm (DEV-2 hold); it resumes only when neither holds."""

    operator_paused: bool = False
    held: bool = False


class Session(Protocol):
    """What dispatch needs of the loop."""

    @property
    def controller(self) -> SessionController: ...
    @property
    def live(self) -> LiveState: ...
    @property
    def failsafe(self) -> Failsafe: ...
    @property
    def board(self) -> AlarmBoard: ...
    @property
    def dose(self) -> DoseControl: ...
    @property
    def recorder(self) -> Recorder: ...
    @property
    def pauses(self) -> Pauses: ...

    def rearm(self, trigger: Trigger) -> None: ...


def actor_of(name: str) -> str:
    """Journal actor names: the system's own, or `operator:<id>` for people."""
    from stimctl.journal.events import operator_actor

    if name in SYSTEM_ACTORS or name.startswith("operator:"):
        return name
    return operator_actor(name)


def dispatch(session: Session, command: Command) -> None:
    actor = actor_of(str(command.args().get("actor", "engine")))
    if not isinstance(command, DeviceFault | RecordsFailed):
        session.recorder.command(command, actor)
    state, live, failsafe = session.controller.current, session.live, session.failsafe
    pauses, adverse = session.pauses, failsafe.adverse_event
    match command:
        case EStopDone():
            failsafe.enter_estop()
            raise EndSession
        case DeviceFault(error=error, lost=lost):
            code = "DEV-3" if lost else "DEVERR"
            failsafe.fault(Alarm(code, Priority.HIGH, error, Action.FAULT))
            raise EndSession
        case EndForAdverseEvent():
            message = f"serious adverse event: {adverse}; the session is ended"
            failsafe.alarm(Alarm("AE", Priority.HIGH, message, Action.FAULT))
            failsafe.reason = f"stopped: serious adverse event ({adverse})"
            if session.controller.current not in TERMINAL:
                failsafe.trigger(Trigger.ABORT)
            raise EndSession
        case Abort(reason=reason):
            if adverse is not None:
                return  # the adverse-event command that follows ends it, with its reason
            failsafe.reason = reason or "operator abort"
            failsafe.trigger(Trigger.ABORT)
            raise EndSession
        case Acknowledge():
            session.board.acknowledge()
            if state in LATCHED:
                session.controller.acknowledge()
        case Pause():
            pauses.operator_paused = live.pause_requested = True
            if allowed(state, Trigger.PAUSE) is not None:
                failsafe.trigger(Trigger.PAUSE)
                live.pause_requested = False
        case Resume():
            if adverse is not None:
                live.event("resume refused: a serious adverse event ended the session")
                return
            pauses.operator_paused = live.pause_requested = False
            if allowed(state, Trigger.RESUME) is not None and not pauses.held:
                session.rearm(Trigger.RESUME)
        case Stop():
            live.stop_requested = True
            if allowed(state, Trigger.STOP) is State.COMPLETED:  # not mid-train
                failsafe.reason = "stopped by operator"
                failsafe.trigger(Trigger.STOP)
                raise EndSession
        case ChangeIntensity():
            decision = session.dose.decide(command)
            session.recorder.intensity_change(decision.payload, actor)
            live.event(decision.event)
        case RecordsFailed(message=message):
            failsafe.alarm(Alarm("RECORDS", Priority.MEDIUM, message, Action.NONE))
            live.event(f"records: {message}")
        case _:
            log.warning("unknown command %s", command.kind)
