"""The session journal against its row: the stored chain head detects a rewritten
journal, the journal's pulse count must match the row, and crash recovery's closing
record is carried back into the row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stimctl.errors import ConfigError, StateError
from stimctl.journal import count_pulses, events, read, verify
from stimctl.journal.record import GENESIS
from stimctl.records.models import SESSION_RUNNING, SessionRecord
from stimctl.records.sessions import end_session, get_session
from stimctl.records.store import Store
from stimctl.records.values import from_utc_text


@dataclass(frozen=True)
class JournalCheck:
    """``ok`` False: the journal is missing, rewritten, or disagrees with the row."""

    session_id: str
    ok: bool
    reason: str
    journal_pulses: int | None = None
    recorded_pulses: int = 0


def verify_session_journal(store: Store, session_id: str) -> JournalCheck:
    """Verify the session's journal with the chain head stored in its row."""
    session = get_session(store, session_id)
    recorded = session.pulses_delivered
    if session.journal_path is None:
        return JournalCheck(session_id, False, "no journal on record", None, recorded)
    path = Path(session.journal_path)
    if not path.exists():
        return JournalCheck(session_id, False, f"journal missing at {path}", None, recorded)
    head = session.chain_head if session.chain_head != GENESIS else None
    result = verify(path, expected_head=head)
    if not result.ok:
        return JournalCheck(
            session_id,
            False,
            f"journal rewritten: line {result.first_bad_line}: {result.reason}",
            None,
            recorded,
        )
    pulses = count_pulses(read(path)).pulses
    if session.status != SESSION_RUNNING:
        if session.chain_head != result.head:
            return JournalCheck(
                session_id,
                False,
                "the journal's head is not the head stored at the end of the session",
                pulses,
                recorded,
            )
        if pulses != recorded:
            return JournalCheck(
                session_id,
                False,
                f"the journal counts {pulses} pulses, the record says {recorded}",
                pulses,
                recorded,
            )
    return JournalCheck(session_id, True, result.reason, pulses, recorded)


def reconcile_session(store: Store, session_id: str) -> SessionRecord:
    """End a ``running`` row from its closed journal (after crash recovery wrote the
    ``interrupted`` session_end): status, pulses and head come from the journal, which
    must still contain the head stored in the row."""
    session = get_session(store, session_id)
    if session.status != SESSION_RUNNING:
        raise StateError(f"session {session_id!r} already ended ({session.status})")
    if session.journal_path is None:
        raise ConfigError(f"session {session_id!r} has no journal to reconcile with")
    head = session.chain_head if session.chain_head != GENESIS else None
    records = read(session.journal_path, expected_head=head)  # tampered: RecordsError
    result = verify(session.journal_path, expected_head=head)
    if not records or records[-1]["event"] != events.SESSION_END:
        raise StateError(
            f"session {session_id!r}: the journal is not closed; run crash recovery first"
        )
    closing = records[-1]
    return end_session(
        store,
        session_id,
        status=str(closing["payload"]["status"]),
        pulses_delivered=count_pulses(records).pulses,
        chain_head=result.head,
        ended_at=from_utc_text(closing["utc"]),
    )
