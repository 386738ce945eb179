"""Operator notes and adverse events, journaled with the operator as actor.

The engine has no command for these (they change nothing in the delivery), so the
console appends them to the session journal itself; the journal's lock serialises them
with the engine's records. They are refused before the session has journaled its start
and after it has ended: the journal admits nothing else there.

An adverse event of a session on record (`--subject`: the session has a row in the
record store under the journal's session id) is also stored there, linked to the session
and the pulse count, so that a seizure or a serious event blocks the subject's next
session until reviewed (SES-4). The journal entry comes first and stays whatever the
store does; a store failure is raised as `AdverseEventNotRecorded` for the console to
show, and never touches the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from stimctl.errors import ConfigError, StateError, StimctlError
from stimctl.journal import Journal, events
from stimctl.journal.events import operator_actor
from stimctl.records import AdverseEventRecord, Store, default_db_path, get_session
from stimctl.records import record_adverse_event as store_adverse_event
from stimctl.report.model import ADVERSE_EVENT_COMMAND, ANNOTATE_COMMAND

# The console thread waits for the store's write lock at most this long: a CLI command
# holding it must not freeze the console for the default 10 s.
STORE_BUSY_TIMEOUT_S = 2.0


class AdverseEventNotRecorded(StateError):
    """The adverse event is in the journal but could not be stored in the records."""


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
    occurred_at: dt.datetime | None = None,
) -> AdverseEventRecord | None:
    """Journal an adverse event; store it too when the session is on record.

    Returns the stored record, or None for a session not on record. Raises StateError
    when nothing could be journaled, `AdverseEventNotRecorded` when it was journaled but
    the record store refused or failed.
    """
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
    return _record(
        journal.session_id,
        operator,
        kind=kind,
        severity=severity,
        notes=notes,
        pulse_index=pulses_delivered,
        occurred_at=occurred_at or dt.datetime.now(dt.UTC),
    )


def _record(
    session_id: str,
    operator: str,
    *,
    kind: str,
    severity: str,
    notes: str,
    pulse_index: int,
    occurred_at: dt.datetime,
) -> AdverseEventRecord | None:
    # No database at all: no session can be on record (and none is created here).
    if not default_db_path().exists():
        return None
    try:
        with Store.open(busy_timeout_s=STORE_BUSY_TIMEOUT_S) as store:
            try:
                session = get_session(store, session_id)
            except ConfigError:
                return None  # a session without --subject has no row
            return store_adverse_event(
                store,
                AdverseEventRecord(
                    subject_id=session.subject_id,
                    kind=kind,
                    severity=severity,
                    occurred_at=occurred_at,
                    session_id=session_id,
                    # Pulses delivered before the event: the index of the next pulse.
                    pulse_index=pulse_index,
                    notes=notes,
                    recorded_by=operator,
                ),
            )
    except StimctlError as exc:
        raise AdverseEventNotRecorded(
            f"adverse event journaled, but NOT stored in the subject's records ({exc}); "
            f"record it with `stimctl ae record`"
        ) from exc
