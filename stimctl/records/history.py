"""What the safety engine needs from the records before a session starts.

`subject_for` gives the subject (latest RMT with its provenance, latest screening);
`history_for` the daily and course history (sessions, course count, unreviewed
blocking adverse events); `evaluate_for_subject` runs the engine on both.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stimctl.errors import ConfigError
from stimctl.records.adverse import adverse_events_from, adverse_events_of, adverse_events_query
from stimctl.records.batch import Query, Rows, fetch_batch
from stimctl.records.clinical import (
    latest_screening,
    latest_threshold,
    latest_thresholds,
    threshold_by_id,
)
from stimctl.records.courses import COUNTS_FOR_RULES, active_course, delivered_in_course
from stimctl.records.models import SubjectSummary, ThresholdRecord, rule_pulses
from stimctl.records.store import Store
from stimctl.records.subjects import require_subject
from stimctl.records.values import from_utc_text, maybe_utc, utc_text
from stimctl.safety.inputs import (
    History,
    MotorThreshold,
    PastSession,
    Screening,
    SiteRules,
    Subject,
    limb_of,
)

if TYPE_CHECKING:
    from stimctl.device_profiles import DeviceProfile
    from stimctl.protocol.models import Protocol
    from stimctl.safety.verdict import Verdict

LOOKBACK_DAYS = 35
"""Sessions older than this do not change any daily rule: the longest look-back is the
run of consecutive accelerated days (SES-3, limit 5). The last few delivered sessions
are always included so the first-exposure checklist (SES-9) and the maintenance gap
(SES-8) see them."""

_ALWAYS_LAST = 3


def history_for(
    store: Store, subject_id: str, now: dt.datetime, *, lookback_days: int = LOOKBACK_DAYS
) -> History:
    """The subject's history as the safety engine's daily and course rules read it."""
    with store.read() as conn:
        return history_in(conn, subject_id, now, lookback_days=lookback_days)


def history_in(
    conn: sqlite3.Connection,
    subject_id: str,
    now: dt.datetime,
    *,
    lookback_days: int = LOOKBACK_DAYS,
) -> History:
    """`history_for` inside the caller's transaction. Dry runs are left out; running rows
    and rows with an uncertain count weigh their planned pulses."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    require_subject(conn, subject_id)
    queries = history_queries(subject_id, now - dt.timedelta(days=lookback_days))
    return history_from(fetch_batch(conn, queries), now, lookback_days=lookback_days)


def history_queries(subject_id: str, since: dt.datetime) -> list[Query]:
    """The reads of the subject's history (`history_from` reads their rows): the sessions
    since `since` (the look-back; the session start asks a little earlier, before it
    knows the moment it takes the lock, and `history_from` cuts), the last few that count,
    the active course with the sessions it counts, and the adverse events."""
    return [
        (
            f"SELECT {_PAST_COLUMNS} FROM sessions"
            " WHERE subject_id = ? AND started_at >= ? AND simulated = 0 ORDER BY started_at",
            (subject_id, utc_text(since)),
        ),
        (
            f"SELECT {_PAST_COLUMNS} FROM sessions WHERE subject_id = ? AND {COUNTS_FOR_RULES}"
            " ORDER BY started_at DESC LIMIT ?",
            (subject_id, _ALWAYS_LAST),
        ),
        (
            # An unqualified column of the subquery is the sessions' (the innermost scope,
            # in SQLite and PostgreSQL alike): its `status` is the session's, not the course's.
            "SELECT c.id, c.protocol_name, (SELECT count(*) FROM sessions"
            f" WHERE sessions.course_id = c.id AND {COUNTS_FOR_RULES}) FROM courses c"
            " WHERE c.subject_id = ? AND c.status = 'active'",
            (subject_id,),
        ),
        adverse_events_query(subject_id),
    ]


def history_from(
    rows: Sequence[Rows], now: dt.datetime, *, lookback_days: int = LOOKBACK_DAYS
) -> History:
    """The `History` as of `now` from the rows of `history_queries`, in order."""
    recent_rows, older_rows, course_rows, event_rows = rows
    since = utc_text(now - dt.timedelta(days=lookback_days))
    recent = _past_sessions([r for r in recent_rows if r[1] >= since])
    older = _past_sessions(older_rows)
    course_sessions = int(course_rows[0][2]) if course_rows else None
    blocking = [e.label() for e in adverse_events_from(event_rows) if e.blocks]
    by_id = {sid: s for sid, s in (*older, *recent) if s.started_at <= now}
    sessions = sorted(by_id.values(), key=lambda s: s.started_at)
    return History(
        sessions=tuple(sessions),
        course_sessions=course_sessions,
        unresolved_adverse_events=tuple(blocking),
    )


def active_course_from(rows: Sequence[Rows]) -> tuple[str, str] | None:
    """(id, protocol name) of the active course among `history_queries`' rows."""
    course_rows = rows[2]
    return (str(course_rows[0][0]), str(course_rows[0][1])) if course_rows else None


_PAST_COLUMNS = (
    "id, started_at, pulses_planned, pulses_delivered, pulses_exact, status, protocol_class,"
    " protocol_name, ended_at"
)


def _past_sessions(rows: Rows) -> list[tuple[str, PastSession]]:
    """(id, session as the rules weigh it) of `_PAST_COLUMNS` rows. Only the columns
    the rules read, straight into `PastSession`: the session start does this for every
    row of the look-back while it holds the subject's lock, so its cost is the lock's
    hold time (bench/bench_records.py)."""
    parse, utc = dt.datetime.fromisoformat, dt.UTC
    out: list[tuple[str, PastSession]] = []
    for sid, started, planned, delivered, exact, status, kind, name, ended in rows:
        start: dt.datetime | None
        end: dt.datetime | None
        try:
            start, end = parse(started), (None if ended is None else parse(ended))
        except (TypeError, ValueError):
            start = end = None
        if start is None or start.tzinfo is not utc or (end is not None and end.tzinfo is not utc):
            # Not the stored form: from_utc_text converts an equivalent or names the bad text.
            start, end = from_utc_text(started), maybe_utc(ended)
        pulses = rule_pulses(status, planned, delivered, exact)
        out.append((sid, PastSession(start, pulses, kind, name, status, end)))
    return out


def subject_for(store: Store, subject_id: str, *, threshold_id: str | None = None) -> Subject:
    """The subject as the engine weighs it: the latest motor threshold of each kind and
    muscle (the primary one: `threshold_id`, else the latest hand RMT, else the latest of
    any kind) and the latest screening (None if never screened). No threshold at all is
    a `ConfigError`."""
    with store.read() as conn:
        record = require_subject(conn, subject_id)
        latest = latest_thresholds(conn, subject_id)
        if threshold_id is not None:
            chosen = threshold_by_id(conn, threshold_id)
            if chosen is None or chosen.subject_id != subject_id:
                raise ConfigError(f"no threshold {threshold_id!r} for subject {subject_id!r}")
        else:
            hand_rmt = [
                t
                for t in latest
                if t.kind == "rmt" and limb_of(t.muscle) == "hand" and t.adjusted_for is None
            ]
            chosen = hand_rmt[0] if hand_rmt else (latest[0] if latest else None)
        screening = latest_screening(conn, subject_id)
        seizures = [e for e in adverse_events_of(conn, subject_id) if e.kind == "seizure"]
    risk = set(record.risk_factors) | ({"prior-seizure"} if seizures else set())
    if chosen is None:
        raise ConfigError(
            f"subject {subject_id!r} has no motor threshold on record (record one with"
            f" `stimctl rmt record {subject_id} --value PCT --method emg --type rmt"
            " --muscle FDI`)"
        )
    others = tuple(
        motor_threshold(t)
        for t in latest
        if t.id != chosen.id
        and (t.kind, t.muscle, t.adjusted_for) != (chosen.kind, chosen.muscle, chosen.adjusted_for)
    )
    return Subject(
        rmt=motor_threshold(chosen),
        screening=None
        if screening is None
        else Screening(
            questionnaire=screening.questionnaire,
            answered_on=screening.answered_on,
            answers=dict(screening.answers),
            medications=screening.medications,
            reviewer=screening.reviewer,
        ),
        subject_id=subject_id,
        thresholds=others,
        scalp_cortex_mm=dict(record.scalp_cortex_mm),
        birth_date=record.birth_date,
        age_years=record.age_years,
        age_recorded_on=record.age_recorded_on,
        risk_factors=tuple(sorted(risk)),
    )


def motor_threshold(record: ThresholdRecord) -> MotorThreshold:
    return MotorThreshold(
        percent_mso=record.percent_mso,
        method=record.method,
        measured_on=record.measured_on,
        device=record.device,
        coil=record.coil,
        kind=record.kind,
        muscle=record.muscle,
        record_id=record.id,
        adjusted_for=record.adjusted_for,
    )


def evaluate_for_subject(
    store: Store,
    protocol: Protocol,
    subject_id: str,
    *,
    now: dt.datetime,
    device: DeviceProfile | None = None,
    site: SiteRules | None = None,
    require_screening: bool = True,
    history: History | None = None,
) -> Verdict:
    """`stimctl.safety.engine.evaluate` with the subject and history from the store.

    `site` defaults to the site rules file (`stimctl.site.load_site`: $STIMCTL_SITE or the
    shipped default), which says whether accelerated schedules such as SAINT are allowed.
    A session start requires a screening on record (`require_screening`). `history`
    defaults to the subject's (`history_for`); a course prescription passes its own.
    """
    from stimctl.safety.engine import evaluate
    from stimctl.site import load_site

    return evaluate(
        protocol,
        subject_for(store, subject_id),
        now=now,
        device=device,
        site=site if site is not None else load_site(),
        history=history if history is not None else history_for(store, subject_id, now),
        require_screening=require_screening,
    )


def summary(store: Store, subject_id: str) -> SubjectSummary:
    """Everything `stimctl subject show` prints, read in one snapshot."""
    with store.read() as conn:
        subject = require_subject(conn, subject_id)
        course = active_course(conn, subject_id)
        real, simulated = conn.execute(
            "SELECT count(*) - coalesce(sum(simulated), 0), coalesce(sum(simulated), 0)"
            " FROM sessions WHERE subject_id = ?",
            (subject_id,),
        ).fetchone()
        return SubjectSummary(
            subject=subject,
            threshold=latest_threshold(conn, subject_id),
            screening=latest_screening(conn, subject_id),
            course=course,
            course_sessions=delivered_in_course(conn, course.id) if course else 0,
            sessions=int(real),
            simulated_sessions=int(simulated),
            adverse_events=tuple(adverse_events_of(conn, subject_id)),
            thresholds=tuple(latest_thresholds(conn, subject_id)),
        )
