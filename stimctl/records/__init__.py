"""The record store: subjects, screenings, motor thresholds, courses, sessions,
overrides and adverse events in one SQLite database (``$STIMCTL_HOME/stimctl.db``).

The session journal stays the record of truth for delivery; a session row keeps the
journal's chain head so a rewritten journal is detected. Typed repository functions
take and return the dataclasses of `stimctl.records.models`.

Session engine, before a start::

    store = Store.open()
    verdict = evaluate_for_subject(store, protocol, subject_id, now=now, device=profile,
                                   site=load_site())
    # or: evaluate(protocol, subject_for(store, sid), history=history_for(store, sid, now), ...)
    started = start_session(store, SessionStart(...), check)  # lock, reconcile, check, insert
    update_session_progress(store, row.id, pulses_delivered=n, chain_head=journal.head)
    end_session(store, row.id, status="completed", pulses_delivered=n,
                chain_head=journal.head, ended_at=now)
"""

from stimctl.records.adverse import (
    list_adverse_events,
    record_adverse_event,
    review_adverse_event,
)
from stimctl.records.clinical import (
    list_thresholds,
    record_screening,
    record_threshold,
    screening_from,
    screenings_of,
)
from stimctl.records.courses import close_course, list_courses, start_course
from stimctl.records.history import evaluate_for_subject, history_for, subject_for, summary
from stimctl.records.journal_check import JournalCheck, reconcile_session, verify_session_journal
from stimctl.records.models import (
    AdverseEventRecord,
    CourseRecord,
    OperatorRecord,
    OverrideRecord,
    ScreeningRecord,
    SessionRecord,
    SubjectRecord,
    SubjectSummary,
    ThresholdRecord,
)
from stimctl.records.overrides import (
    journal_override,
    override_payload,
    overrides_of,
    record_override,
)
from stimctl.records.reconcile import Reconciled, reconcile
from stimctl.records.sessions import (
    begin_session,
    end_session,
    get_session,
    list_sessions,
    update_session_progress,
)
from stimctl.records.start import SessionStart, Started, start_session
from stimctl.records.store import Store, default_db_path
from stimctl.records.subjects import (
    add_operator,
    add_subject,
    edit_subject,
    get_subject,
    list_subjects,
)

__all__ = [
    "AdverseEventRecord",
    "CourseRecord",
    "JournalCheck",
    "OperatorRecord",
    "OverrideRecord",
    "Reconciled",
    "ScreeningRecord",
    "SessionRecord",
    "SessionStart",
    "Started",
    "Store",
    "SubjectRecord",
    "SubjectSummary",
    "ThresholdRecord",
    "add_operator",
    "add_subject",
    "begin_session",
    "close_course",
    "default_db_path",
    "edit_subject",
    "end_session",
    "evaluate_for_subject",
    "get_session",
    "get_subject",
    "history_for",
    "journal_override",
    "list_adverse_events",
    "list_courses",
    "list_sessions",
    "list_subjects",
    "list_thresholds",
    "override_payload",
    "overrides_of",
    "reconcile",
    "reconcile_session",
    "record_adverse_event",
    "record_override",
    "record_screening",
    "record_threshold",
    "review_adverse_event",
    "screening_from",
    "screenings_of",
    "start_course",
    "start_session",
    "subject_for",
    "summary",
    "update_session_progress",
    "verify_session_journal",
]
