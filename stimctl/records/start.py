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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

from stimctl.records.history import history_in
from stimctl.records.models import SessionRecord
from stimctl.records.owner import current_owner
from stimctl.records.reconcile import Reconciled, has_running, reconcile, reconcile_running
from stimctl.records.sessions import NewSession, insert_running
from stimctl.records.store import Store
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
    # Without a running row there is nothing to reconcile: a read (no lock, no commit to
    # flush) spares the start a second write transaction. A row that appears after this
    # read is reconciled inside the start's transaction below, as before.
    before = reconcile(store, start.subject_id) if has_running(store, start.subject_id) else []
    with store.write() as conn:
        store.lock_subject(conn, start.subject_id)
        now = max(start.started_at, dt.datetime.now(dt.UTC))
        during = reconcile_running(conn, start.subject_id)
        history = history_in(conn, start.subject_id, now)
        decision = check(history, now)
        fields = {f.name: getattr(start, f.name) for f in dataclasses.fields(start)}
        # The row starts when the lock was taken, owned by this process.
        new = cast(NewSession, {**fields, "started_at": now, "owner": current_owner()})
        record = insert_running(conn, **new)
    closed = tuple(r for r in (*before, *during) if r.closed)
    return Started(record, decision, closed)
