"""Session rows: what the session engine records at the start and at the end.

The journal is the record of truth for delivery; the row is the index the daily and
course rules read, and it keeps the journal's chain head so that a rewritten journal is
detected (`stimctl.records.journal_check`).

The engine calls, in this order:

1. `begin_session` once the verdict allows the start (status ``running``);
2. `update_session_progress` as often as it likes (e.g. after each train), so that a
   crash leaves the pulses delivered so far on record for the next day's rules;
3. `end_session` with the journal's closing status, count and head.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from stimctl.errors import ConfigError, StateError
from stimctl.journal.events import SESSION_STATUSES
from stimctl.journal.writer import validate_session_id
from stimctl.records.batch import Query, Rows, execute_later
from stimctl.records.clinical import latest_threshold
from stimctl.records.courses import active_course
from stimctl.records.models import SESSION_RUNNING, SessionRecord
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject
from stimctl.records.values import check_person_id, from_utc_text, maybe_utc, new_id, utc_text

_HEX64 = re.compile(r"[0-9a-f]{64}")
_COLUMNS = (
    "id, subject_id, protocol_name, protocol_digest, status, pulses_planned, pulses_delivered,"
    " started_at, course_id, journal_path, chain_head, ended_at, operator_id, device, coil,"
    " threshold_id, protocol_class, simulated, pulses_exact, owner_host, owner_pid,"
    " owner_token, close_note, mode, study_id"
)

_PLACEHOLDERS = ", ".join("?" * len(_COLUMNS.split(",")))


@dataclass(frozen=True)
class Owner:
    """The process that runs a session (see `stimctl.records.owner`)."""

    host: str
    pid: int
    token: str


class NewSession(TypedDict, total=False):
    """The columns of a session about to start (`begin_session`, `insert_running`)."""

    subject_id: Required[str]
    protocol_name: Required[str]
    protocol_digest: Required[str]
    pulses_planned: Required[int]
    started_at: Required[dt.datetime]
    session_id: str | None
    journal_path: Path | str | None
    chain_head: str | None
    operator_id: str | None
    device: str | None
    coil: str | None
    threshold_id: str | None
    course_id: str | None
    protocol_class: str
    simulated: bool
    mode: str
    study_id: str | None
    owner: Owner | None


_NEW_SESSION_KEYS = NewSession.__required_keys__ | NewSession.__optional_keys__


def begin_session(store: Store, **new: Unpack[NewSession]) -> SessionRecord:
    """Record the start of a session (status ``running``) and return its row.

    `session_id` defaults to a new id; pass the journal's session id so the two match.
    `threshold_id` defaults to the subject's latest threshold; `course_id` to the active
    course when it prescribes `protocol_name` (a session of another protocol is not part
    of the course); `protocol_class` to "", `simulated` to False, `mode` to "clinical".
    No rule is checked here: a session start goes through
    `stimctl.records.start.start_session`, which checks and inserts in one transaction.
    """
    with store.write() as conn:
        return insert_running(conn, **new)


def insert_running(conn: sqlite3.Connection, **new: Unpack[NewSession]) -> SessionRecord:
    """`begin_session` inside the caller's write transaction."""
    record = running_record(new)
    require_subject(conn, record.subject_id)
    if record.operator_id is not None:
        ensure_operator(conn, record.operator_id)
    threshold = latest_threshold(conn, record.subject_id) if record.threshold_id is None else None
    course = active_course(conn, record.subject_id) if record.course_id is None else None
    record = with_defaults(
        record,
        latest_threshold_id=threshold.id if threshold else None,
        active_course=(course.id, course.protocol_name) if course else None,
    )
    if _row(conn, record.id) is not None:
        raise ConfigError(f"session {record.id!r} is already on record")
    insert_session(conn, record)
    return record


def with_defaults(
    record: SessionRecord,
    *,
    latest_threshold_id: str | None,
    active_course: tuple[str, str] | None,
) -> SessionRecord:
    """`record` with the defaults `begin_session` documents for what it leaves None: the
    subject's latest threshold, and the active course (id, protocol name) when that
    course prescribes this protocol (a session of another protocol is not part of it)."""
    threshold_id = record.threshold_id
    if threshold_id is None:
        threshold_id = latest_threshold_id
    course_id = record.course_id
    if course_id is None and active_course and active_course[1] == record.protocol_name:
        course_id = active_course[0]
    return dataclasses.replace(record, threshold_id=threshold_id, course_id=course_id)


def running_record(new: NewSession) -> SessionRecord:
    """The running row `new` describes, its values checked; `threshold_id` and `course_id`
    as given (None: the caller looks up the defaults `begin_session` documents)."""
    unknown = new.keys() - _NEW_SESSION_KEYS
    if unknown:  # **kwargs would drop a misspelt or new column silently
        raise TypeError(f"insert_running() got unexpected columns {sorted(unknown)}")
    session_id = new.get("session_id")
    sid = validate_session_id(session_id) if session_id else new_id()
    pulses_planned = new["pulses_planned"]
    if pulses_planned < 0:
        raise ConfigError(f"pulses planned must not be negative, got {pulses_planned}")
    head = _check_head(new.get("chain_head"))
    operator_id = new.get("operator_id")
    if operator_id is not None:
        check_person_id(operator_id, "operator")
    journal_path = new.get("journal_path")
    owner = new.get("owner")
    return SessionRecord(
        id=sid,
        subject_id=new["subject_id"],
        protocol_name=new["protocol_name"],
        protocol_digest=new["protocol_digest"],
        status=SESSION_RUNNING,
        pulses_planned=pulses_planned,
        pulses_delivered=0,
        started_at=new["started_at"],
        course_id=new.get("course_id"),
        journal_path=str(journal_path) if journal_path is not None else None,
        chain_head=head,
        operator_id=operator_id,
        device=new.get("device"),
        coil=new.get("coil"),
        threshold_id=new.get("threshold_id"),
        protocol_class=new.get("protocol_class", ""),
        simulated=new.get("simulated", False),
        owner_host=owner.host if owner else None,
        owner_pid=owner.pid if owner else None,
        owner_token=owner.token if owner else None,
        mode=new.get("mode", "clinical"),
        study_id=new.get("study_id"),
    )


def insert_session(conn: sqlite3.Connection, record: SessionRecord) -> None:
    """Insert a whole row (imports and tests; the engine uses `begin_session`)."""
    conn.execute(*insert_query(record))


def insert_query(record: SessionRecord) -> Query:
    """The INSERT of a whole row."""
    return (
        f"INSERT INTO sessions ({_COLUMNS}) VALUES ({_PLACEHOLDERS})",
        (
            record.id,
            record.subject_id,
            record.protocol_name,
            record.protocol_digest,
            record.status,
            record.pulses_planned,
            record.pulses_delivered,
            utc_text(record.started_at),
            record.course_id,
            record.journal_path,
            record.chain_head,
            utc_text(record.ended_at) if record.ended_at else None,
            record.operator_id,
            record.device,
            record.coil,
            record.threshold_id,
            record.protocol_class,
            int(record.simulated),
            int(record.pulses_exact),
            record.owner_host,
            record.owner_pid,
            record.owner_token,
            record.close_note,
            record.mode,
            record.study_id,
        ),
    )


def update_session_progress(
    store: Store, session_id: str, *, pulses_delivered: int, chain_head: str
) -> SessionRecord:
    """Record the pulses delivered so far and the journal head of a running session."""
    head = _check_head(chain_head)
    with store.write() as conn:
        current = _require_running(conn, session_id)
        _check_pulses(current, pulses_delivered)
        conn.execute(
            "UPDATE sessions SET pulses_delivered = ?, chain_head = ? WHERE id = ?",
            (pulses_delivered, head, session_id),
        )
        return _require(conn, session_id)


def end_session(
    store: Store,
    session_id: str,
    *,
    status: str,
    pulses_delivered: int,
    chain_head: str,
    ended_at: dt.datetime,
    pulses_exact: bool = True,
) -> SessionRecord:
    """Record the end of a running session: its closing status (one of
    `stimctl.journal.events.SESSION_STATUSES`), pulses delivered (from the journal; the
    lower bound when `pulses_exact` is False, and the rules then count the plan) and
    the journal's final chain head. Ending a session twice is a `StateError`."""
    if status not in SESSION_STATUSES:
        raise ConfigError(f"session status {status!r} is not one of {sorted(SESSION_STATUSES)}")
    head = _check_head(chain_head)
    with store.write() as conn:
        current = _require_running(conn, session_id)
        _check_pulses(current, pulses_delivered)
        ended_text = utc_text(ended_at)
        # Sent with the COMMIT (one round trip on PostgreSQL); the row is the one read
        # under the write lock with these columns set, as a re-read would give it.
        execute_later(
            conn,
            (
                "UPDATE sessions SET status = ?, pulses_delivered = ?, chain_head = ?,"
                " ended_at = ?, pulses_exact = ? WHERE id = ? AND status = 'running'",
                (status, pulses_delivered, head, ended_text, int(pulses_exact), session_id),
            ),
        )
        return dataclasses.replace(
            current,
            status=status,
            pulses_delivered=pulses_delivered,
            chain_head=head,
            ended_at=from_utc_text(ended_text),
            pulses_exact=pulses_exact,
        )


def get_session(store: Store, session_id: str) -> SessionRecord:
    with store.read() as conn:
        return _require(conn, session_id)


def list_sessions(
    store: Store, subject_id: str | None = None, *, limit: int | None = None
) -> list[SessionRecord]:
    """Sessions by start time, oldest first (the last `limit` if given)."""
    with store.read() as conn:
        if subject_id is not None:
            require_subject(conn, subject_id)
            where, args = "WHERE subject_id = ?", [subject_id]
        else:
            where, args = "", []
        sql = f"SELECT {_COLUMNS} FROM sessions {where} ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = conn.execute(sql, args).fetchall()
    return [session_from_row(r) for r in reversed(rows)]


def session_from_row(row: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(
        id=row[0],
        subject_id=row[1],
        protocol_name=row[2],
        protocol_digest=row[3],
        status=row[4],
        pulses_planned=int(row[5]),
        pulses_delivered=int(row[6]),
        started_at=from_utc_text(row[7]),
        course_id=row[8],
        journal_path=row[9],
        chain_head=row[10],
        ended_at=maybe_utc(row[11]),
        operator_id=row[12],
        device=row[13],
        coil=row[14],
        threshold_id=row[15],
        protocol_class=row[16],
        simulated=bool(row[17]),
        pulses_exact=bool(row[18]),
        owner_host=row[19],
        owner_pid=row[20],
        owner_token=row[21],
        close_note=row[22],
        mode=row[23],
        study_id=row[24],
    )


def _row(conn: sqlite3.Connection, session_id: str) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = conn.execute(
        f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    return row


def _require(conn: sqlite3.Connection, session_id: str) -> SessionRecord:
    row = _row(conn, session_id)
    if row is None:
        raise ConfigError(f"unknown session {session_id!r}")
    return session_from_row(row)


def _require_running(conn: sqlite3.Connection, session_id: str) -> SessionRecord:
    current = _require(conn, session_id)
    if current.status != SESSION_RUNNING:
        raise StateError(f"session {session_id!r} already ended ({current.status})")
    return current


def _check_pulses(current: SessionRecord, pulses_delivered: int) -> None:
    if pulses_delivered < current.pulses_delivered:
        raise ConfigError(
            f"session {current.id!r}: pulses delivered cannot go down"
            f" ({current.pulses_delivered} -> {pulses_delivered})"
        )


def _check_head(chain_head: str | None) -> str | None:
    if chain_head is not None and _HEX64.fullmatch(chain_head) is None:
        raise ConfigError(f"chain head {chain_head!r} is not a SHA-256 hex digest")
    return chain_head


def running_rows(conn: sqlite3.Connection, subject_id: str | None = None) -> list[SessionRecord]:
    """Rows still ``running`` (of one subject if given), oldest first."""
    return running_from(conn.execute(*running_query(subject_id)).fetchall())


def running_query(subject_id: str | None = None) -> Query:
    """The running rows (of one subject if given), for `running_from`."""
    where, args = ("AND subject_id = ?", (subject_id,)) if subject_id is not None else ("", ())
    # 'running' as a literal and no ORDER BY: only then does the planner take the small
    # partial index sessions_running (SQLite otherwise walks all the subject's rows in
    # sessions_by_subject for their order). Few rows: sorted here, as the SQL would
    # (timestamps are text in the stored form; str order is the columns' byte order).
    return f"SELECT {_COLUMNS} FROM sessions WHERE status = 'running' {where}", args


def running_from(rows: Rows) -> list[SessionRecord]:
    return [session_from_row(r) for r in sorted(rows, key=lambda r: (r[7], r[0]))]


def abandon_session(store: Store, session_id: str, *, note: str, ended_at: dt.datetime) -> None:
    """Close a running row whose session never started (the device could not be opened):
    status ``aborted``, no pulses, `note` says why."""
    with store.write() as conn:
        _require_running(conn, session_id)
        conn.execute(
            "UPDATE sessions SET status = 'aborted', ended_at = ?, close_note = ? WHERE id = ?",
            (utc_text(ended_at), note[:500], session_id),
        )
