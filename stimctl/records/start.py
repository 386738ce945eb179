"""Starting a session: the per-subject lock, the rules on fresh history, the running row.

Two consoles (or four shells) starting a session for one subject at once must not both
pass the daily rules on history read before the other's row existed. `start_session`
does it in ONE write transaction: lock the subject (`Store.lock_subject`), close the rows
of dead sessions from their journals (`stimctl.records.reconcile`), read the history,
let the caller's `check` judge it (the safety engine; it raises to refuse), and insert
the running row with this process as its owner. The first to commit wins; the others
then see its running row, which the rules count as a full session.

The store knows nothing of the safety engine: `check` is the caller's. A second backend
implements `Store.write` and `Store.lock_subject`; this module stays as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from stimctl.errors import ConfigError
from stimctl.records.batch import Query, execute_later, fetch_batch
from stimctl.records.history import (
    LOOKBACK_DAYS,
    active_course_from,
    history_from,
    history_queries,
)
from stimctl.records.models import OperatorRecord, SessionRecord
from stimctl.records.owner import current_owner
from stimctl.records.reconcile import Reconciled, reconcile, reconcile_running
from stimctl.records.sessions import (
    NewSession,
    insert_query,
    running_from,
    running_query,
    running_record,
    with_defaults,
)
from stimctl.records.store import Store
from stimctl.records.subjects import new_operator_query
from stimctl.safety.inputs import History

T = TypeVar("T")


@dataclass(frozen=True)
class SessionStart:
    """The row of a session about to start."""

    subject_id: str
    session_id: str
    protocol_name: str
    protocol_digest: str
    pulses_planned: int
    started_at: dt.datetime
    journal_path: Path | str | None = None
    operator_id: str | None = None
    device: str | None = None
    coil: str | None = None
    protocol_class: str = ""
    simulated: bool = False
    mode: str = "clinical"
    study_id: str | None = None
    threshold_id: str | None = None
    """The motor threshold the dose refers to (None: the subject's latest)."""


@dataclass(frozen=True)
class Started(Generic[T]):
    record: SessionRecord
    decision: T
    """What `check` returned (e.g. the verdict and the accepted override)."""
    reconciled: tuple[Reconciled, ...]


def start_session(
    store: Store, start: SessionStart, check: Callable[[History, dt.datetime], T]
) -> Started[T]:
    """Check `start` against the subject's history and record it as running, atomically.

    `check(history, now)` raises (e.g. `SafetyViolation`, `OverrideRequired`) to refuse: the
    transaction is rolled back and nothing is recorded. Dead sessions of the subject are
    reconciled first, in a transaction of their own (so a refusal does not undo it), and
    again inside the start's transaction. The row starts at the time the lock was
    taken (not `start.started_at`, when the caller prepared): history is read as of that
    moment, so a row committed by a start that prepared later is never left out.
    """
    record = running_record(_new_session(start))  # bad values refused before any lock
    started = _locked_start(store, start, record, check, reconcile_inside=False)
    if started is not None:
        return started
    # The subject has a running row. Reconcile it in a transaction of its own, so that a
    # refusal below does not undo it, then start with the reconcile repeated under the
    # lock (a row may have appeared in between).
    before = reconcile(store, start.subject_id)
    started = _locked_start(store, start, record, check, reconcile_inside=True)
    if started is None:  # reconcile_inside never gives up; fail closed if it did
        raise RuntimeError(f"session start for {start.subject_id!r} gave up twice")
    closed = tuple(r for r in before if r.closed)
    return dataclasses.replace(started, reconciled=(*closed, *started.reconciled))


def _locked_start(
    store: Store,
    start: SessionStart,
    record: SessionRecord,
    check: Callable[[History, dt.datetime], T],
    *,
    reconcile_inside: bool,
) -> Started[T] | None:
    """One write transaction: the lock and every read in one batch (one round trip on
    PostgreSQL), the check, the INSERT sent with the COMMIT. None: the subject has a
    running row and `reconcile_inside` is off (nothing was written)."""
    # The look-back is asked from before the lock; `history_from` cuts it at the moment
    # the lock was taken, which is known only when the batch returns.
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=LOOKBACK_DAYS)
    with _no_collection_pause(), store.write() as conn:
        rows = fetch_batch(conn, _queries(store, start, record, since))
        now = max(start.started_at, dt.datetime.now(dt.UTC))
        lock, running, threshold, operator, existing = rows[:5]
        history_rows = rows[5:]
        if not lock:
            raise ConfigError(
                f"unknown subject {start.subject_id!r}"
                f" (add it with `stimctl subject add {start.subject_id}`)"
            )
        during: list[Reconciled] = []
        if running_from(running):
            if not reconcile_inside:
                return None
            during = reconcile_running(conn, start.subject_id)
            history_rows = fetch_batch(conn, history_queries(start.subject_id, since))
        history = history_from(history_rows, now)
        decision = check(history, now)
        if existing:
            raise ConfigError(f"session {record.id!r} is already on record")
        if record.operator_id is not None and not operator:  # its first session
            operator_row = OperatorRecord(record.operator_id, "operator", now)
            execute_later(conn, new_operator_query(operator_row))
        # The row starts when the lock was taken, owned by this process.
        row = with_defaults(
            dataclasses.replace(record, started_at=now),
            latest_threshold_id=str(threshold[0][0]) if threshold else None,
            active_course=active_course_from(history_rows),
        )
        execute_later(conn, insert_query(row))
    return Started(row, decision, tuple(r for r in during if r.closed))


@contextmanager
def _no_collection_pause() -> Iterator[None]:
    """No cyclic garbage collection while the subject's lock is held. Reading a long
    look-back allocates thousands of objects, enough to trigger collections; in a
    long-lived console (a Textual app holds a large heap) a full collection can take tens
    of milliseconds, during which every other console waiting for this subject (or, on
    SQLite, for the one write lock) waits too. Reference counting still frees almost
    everything at once; anything cyclic is collected after the COMMIT."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _queries(
    store: Store, start: SessionStart, record: SessionRecord, since: dt.datetime
) -> list[Query]:
    subject = start.subject_id
    return [
        store.subject_lock_query(subject),  # first: every read below is under the lock
        running_query(subject),
        (
            "SELECT id FROM motor_thresholds WHERE subject_id = ?"
            " ORDER BY measured_on DESC, recorded_at DESC LIMIT 1",
            (subject,),
        ),
        ("SELECT id FROM operators WHERE id = ?", (record.operator_id,)),
        ("SELECT id FROM sessions WHERE id = ?", (record.id,)),
        *history_queries(subject, since),
    ]


def _new_session(start: SessionStart) -> NewSession:
    fields = {f.name: getattr(start, f.name) for f in dataclasses.fields(start)}
    return cast(NewSession, {**fields, "owner": current_owner()})
