"""How a session ends: the unwinding exceptions and the closing status (pure).

Every engine module may end the session from deep inside a train: it does what the
failure needs first (disarm, alarm, state change, through the loop's hooks) and then
raises `EndSession`, which unwinds to the loop. `JournalFailed` is the one case where
nothing more may be written or delivered (fail closed).
"""

from __future__ import annotations

from typing import Final

from stimctl.journal.events import STATUS_STOPPED_ADVERSE_EVENT
from stimctl.session.states import State

END_STATUS: Final = {
    State.COMPLETED: "completed",
    State.ABORTED: "aborted",
    State.ESTOPPED: "estopped",
    State.FAULT: "fault",
}


class EndSession(Exception):
    """Unwinds the delivery loop when the session must end now."""


class JournalFailed(EndSession):
    """The journal cannot be written: nothing more may be delivered (fail closed)."""


def end_status(
    state: State, *, stop_requested: bool, adverse_event: bool, journal_failed: bool
) -> str:
    """The `session_end` status: a journal failure is a fault whatever the state, a
    serious adverse event names itself, an operator's stop is `stopped`."""
    if journal_failed:
        return "fault"
    if adverse_event:
        return STATUS_STOPPED_ADVERSE_EVENT
    status = END_STATUS.get(state, "fault")
    if state is State.COMPLETED and stop_requested:
        return "stopped"
    return status
