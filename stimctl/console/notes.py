"""Operator notes and adverse events, journaled with the operator as actor.

The engine has no command for these (they change nothing in the delivery), so the
console appends them to the session journal itself; the journal's lock serialises them
with the engine's records. They are refused before the session has journaled its start
and after it has ended: the journal admits nothing else there.
"""

from __future__ import annotations

from typing import Any

from stimctl.errors import StateError, StimctlError
from stimctl.journal import Journal, events
from stimctl.journal.events import operator_actor
from stimctl.report.model import ADVERSE_EVENT_COMMAND, ANNOTATE_COMMAND


def _append(journal: Journal, operator: str, payload: dict[str, Any]) -> None:
    if journal.records == 0 or journal.ended:
        raise StateError("the session is not running: nothing can be journaled now")
    try:
        journal.append(events.OPERATOR, payload, actor=operator_actor(operator))
    except StimctlError as exc:
        raise StateError(f"could not journal it: {exc}") from exc


def annotate(journal: Journal, operator: str, text: str, session_time_s: float) -> None:
    _append(
        journal,
        operator,
        {"command": ANNOTATE_COMMAND, "text": text, "session_time_s": round(session_time_s, 3)},
    )


def adverse_event(
    journal: Journal,
    operator: str,
    *,
    kind: str,
    severity: str,
    notes: str,
    pulses_delivered: int,
    session_time_s: float,
) -> None:
    _append(
        journal,
        operator,
        {
            "command": ADVERSE_EVENT_COMMAND,
            "kind": kind,
            "severity": severity,
            "notes": notes,
            "pulses_delivered": pulses_delivered,
            "session_time_s": round(session_time_s, 3),
        },
    )
